//! MARCXML (the Library of Congress `MARC21/slim` schema, which CNMARC
//! exporters use too): `<record>` elements holding a `<leader>`,
//! `<controlfield tag>` and `<datafield tag ind1 ind2>` with `<subfield
//! code>`. The reader streams with quick-xml, one record at a time; a record
//! whose content is wrong (a bad tag, a missing leader) is reported and
//! skipped, while XML that is not well-formed ends the file, because no
//! parser can tell where the next record starts after a syntax error.

use std::io::{BufRead, Write};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::{DataField, Field, LEADER_LEN, MAX_FIELD_BYTES, Problem, Record, RecordError, Subfield, Tag};

/// The MARCXML namespace.
pub const NAMESPACE: &str = "http://www.loc.gov/MARC21/slim";

/// Where in a record the reader is.
enum Context {
    Record,
    Leader,
    Control(Option<Tag>),
    Data,
    Subfield(char),
}

/// The record being read.
struct Draft {
    leader: Option<[u8; LEADER_LEN]>,
    fields: Vec<Field>,
    data: Option<DataField>,
    text: String,
    context: Context,
    problem: Option<RecordError>,
}

/// Reads MARCXML records one at a time from any buffered input.
pub struct MarcXmlReader<R> {
    reader: quick_xml::Reader<R>,
    buffer: Vec<u8>,
    record_number: u64,
    draft: Option<Draft>,
    done: bool,
}

impl<R: BufRead> MarcXmlReader<R> {
    /// A reader over `input`; wrap files in a `BufReader`.
    pub fn new(input: R) -> Self {
        let mut reader = quick_xml::Reader::from_reader(input);
        reader.config_mut().check_end_names = true;
        Self { reader, buffer: Vec::new(), record_number: 0, draft: None, done: false }
    }

    /// How many records (good or bad) have been read so far.
    pub fn records_read(&self) -> u64 {
        self.record_number
    }

    fn fail(&mut self, problem: Problem, reason: String) -> RecordError {
        self.done = true;
        let record = if self.draft.is_some() { self.record_number } else { self.record_number + 1 };
        RecordError::new(record, None, problem, reason)
    }
}

impl<R: BufRead> Iterator for MarcXmlReader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buffer.clear();
            let event = match self.reader.read_event_into(&mut self.buffer) {
                Ok(event) => event.into_owned(),
                Err(error) => {
                    let position = self.reader.error_position();
                    let problem = match error {
                        quick_xml::Error::Io(_) => Problem::Io,
                        quick_xml::Error::Encoding(_) => Problem::Encoding,
                        _ => Problem::Syntax,
                    };
                    return Some(Err(
                        self.fail(problem, format!("the XML is broken at byte {position}: {error}"))
                    ));
                }
            };
            match event {
                Event::Start(element) => {
                    if let Some(error) = self.start(&element) {
                        return Some(Err(error));
                    }
                }
                Event::Empty(element) => {
                    if let Some(error) = self.start(&element) {
                        return Some(Err(error));
                    }
                    if let Some(result) = self.end(&element_name(&element)) {
                        return Some(result);
                    }
                }
                Event::End(element) => {
                    let name = local(element.local_name().into_inner()).to_owned();
                    if let Some(result) = self.end(&name) {
                        return Some(result);
                    }
                }
                Event::Text(text) => self.push_text(&text.xml10_content()),
                Event::CData(data) => self.push_text(&data.xml10_content()),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(character)) => Some(character.to_string()),
                        Ok(None) => {
                            quick_xml::escape::resolve_predefined_entity(&reference).map(str::to_owned)
                        }
                        Err(_) => None,
                    };
                    match resolved {
                        Some(text) => self.push_text(&text),
                        None => {
                            let reason = format!("unknown entity or character reference &{};", &*reference);
                            self.record_problem(None, Problem::Syntax, reason);
                        }
                    }
                }
                Event::Eof => {
                    self.done = true;
                    if self.draft.take().is_some() {
                        let reason = "the file ends inside this record; was it cut off?".to_owned();
                        return Some(Err(RecordError::new(
                            self.record_number,
                            None,
                            Problem::Syntax,
                            reason,
                        )));
                    }
                    return None;
                }
                _ => {}
            }
        }
        None
    }
}

fn element_name(element: &BytesStart<'_>) -> String {
    local(element.local_name().into_inner()).to_owned()
}

/// Some writers put a namespace prefix on every element (`marc:record`);
/// quick-xml's local name already drops it, this guards odd spellings.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

impl<R: BufRead> MarcXmlReader<R> {
    fn start(&mut self, element: &BytesStart<'_>) -> Option<RecordError> {
        let name = element_name(element);
        if name == "record" {
            if self.draft.is_some() {
                return Some(self.fail(Problem::Syntax, "a <record> starts inside another record".into()));
            }
            self.record_number += 1;
            self.draft = Some(Draft {
                leader: None,
                fields: Vec::new(),
                data: None,
                text: String::new(),
                context: Context::Record,
                problem: None,
            });
            return None;
        }
        let attribute = |key: &str| -> Result<Option<String>, String> {
            match element.try_get_attribute(key) {
                Ok(Some(attribute)) => attribute
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map(|value| Some(value.into_owned()))
                    .map_err(|error| format!("attribute {key} of <{name}> is broken: {error}")),
                Ok(None) => Ok(None),
                Err(error) => Err(format!("the attributes of <{name}> are broken: {error}")),
            }
        };
        let context = match name.as_str() {
            "leader" => Context::Leader,
            "controlfield" => match attribute("tag") {
                Ok(tag) => {
                    let parsed = tag.as_deref().and_then(|tag| Tag::new(tag.as_bytes()));
                    if parsed.is_none() {
                        self.record_problem(None, Problem::Field, format!("<controlfield> has tag {tag:?}"));
                    }
                    Context::Control(parsed)
                }
                Err(reason) => {
                    self.record_problem(None, Problem::Field, reason);
                    Context::Control(None)
                }
            },
            "datafield" => {
                let parsed = (|| {
                    let tag = attribute("tag")?;
                    let tag = tag.as_deref().and_then(|tag| Tag::new(tag.as_bytes())).ok_or_else(|| {
                        format!("<datafield> has tag {tag:?}; a tag is three letters or digits")
                    })?;
                    let ind1 =
                        indicator(attribute("ind1")?).map_err(|reason| format!("field {tag}: {reason}"))?;
                    let ind2 =
                        indicator(attribute("ind2")?).map_err(|reason| format!("field {tag}: {reason}"))?;
                    Ok::<_, String>(DataField { tag, ind1, ind2, subfields: Vec::new() })
                })();
                match parsed {
                    Ok(field) => self.set_data(Some(field)),
                    Err(reason) => {
                        self.record_problem(None, Problem::Field, reason);
                        self.set_data(None);
                    }
                }
                Context::Data
            }
            "subfield" => {
                let code = attribute("code").map(|code| code.unwrap_or_default());
                match code.as_deref().map(str::as_bytes) {
                    Ok([byte]) if byte.is_ascii_graphic() => Context::Subfield(char::from(*byte)),
                    Ok(_) => {
                        let tag = self.data_tag();
                        self.record_problem(
                            tag.as_deref(),
                            Problem::Field,
                            format!("a subfield has code {code:?}"),
                        );
                        Context::Subfield('?')
                    }
                    Err(reason) => {
                        let tag = self.data_tag();
                        self.record_problem(tag.as_deref(), Problem::Field, reason.clone());
                        Context::Subfield('?')
                    }
                }
            }
            _ => return None,
        };
        if let Some(draft) = self.draft.as_mut() {
            draft.text.clear();
            draft.context = context;
        }
        None
    }

    fn end(&mut self, name: &str) -> Option<Result<Record, RecordError>> {
        let record_number = self.record_number;
        let mut draft = self.draft.take()?;
        let text = std::mem::take(&mut draft.text);
        match (name, &draft.context) {
            ("leader", Context::Leader) => {
                let bytes = text.as_bytes();
                if bytes.len() == LEADER_LEN
                    && bytes.iter().all(|byte| byte.is_ascii_graphic() || *byte == b' ')
                {
                    let mut leader = [0u8; LEADER_LEN];
                    leader.copy_from_slice(bytes);
                    draft.leader = Some(leader);
                } else {
                    let reason = format!("the leader is {text:?}; it must be 24 ASCII characters");
                    draft.note(record_number, None, Problem::Leader, reason);
                }
                draft.context = Context::Record;
            }
            ("controlfield", Context::Control(tag)) => {
                if let Some(tag) = *tag {
                    draft.fields.push(Field::Control { tag, value: text });
                }
                draft.context = Context::Record;
            }
            ("subfield", Context::Subfield(code)) => {
                let code = *code;
                if let Some(field) = draft.data.as_mut() {
                    field.subfields.push(Subfield { code, value: text });
                }
                draft.context = Context::Data;
            }
            ("datafield", Context::Data) => {
                if let Some(field) = draft.data.take() {
                    draft.fields.push(Field::Data(field));
                }
                draft.context = Context::Record;
            }
            ("record", _) => {
                if let Some(problem) = draft.problem {
                    return Some(Err(problem));
                }
                let Some(leader) = draft.leader else {
                    let reason = "the record has no <leader>";
                    return Some(Err(RecordError::new(record_number, None, Problem::Leader, reason)));
                };
                return Some(Ok(Record { leader, fields: draft.fields }));
            }
            _ => {}
        }
        self.draft = Some(draft);
        None
    }

    fn push_text(&mut self, text: &str) {
        let Some(draft) = self.draft.as_mut() else {
            return;
        };
        if matches!(draft.context, Context::Record | Context::Data) {
            return;
        }
        if draft.text.len() + text.len() > MAX_FIELD_BYTES {
            let tag = match &draft.context {
                Context::Control(tag) => tag.map(|tag| tag.to_string()),
                _ => self.data_tag(),
            };
            let reason =
                format!("a value is longer than {MAX_FIELD_BYTES} bytes, more than a MARC field holds");
            self.record_problem(tag.as_deref(), Problem::Size, reason);
            return;
        }
        draft.text.push_str(text);
    }

    fn data_tag(&self) -> Option<String> {
        self.draft.as_ref()?.data.as_ref().map(|field| field.tag.to_string())
    }

    fn set_data(&mut self, field: Option<DataField>) {
        if let Some(draft) = self.draft.as_mut() {
            draft.data = field;
        }
    }

    fn record_problem(&mut self, tag: Option<&str>, problem: Problem, reason: String) {
        let record_number = self.record_number;
        if let Some(draft) = self.draft.as_mut() {
            draft.note(record_number, tag, problem, reason);
        }
    }
}

impl Draft {
    /// Keeps the first problem of the record; the record is reported when
    /// its `</record>` arrives, so the reader stays in step with the file.
    fn note(&mut self, record_number: u64, tag: Option<&str>, problem: Problem, reason: String) {
        if self.problem.is_none() {
            self.problem = Some(RecordError::new(record_number, tag, problem, reason));
        }
    }
}

fn indicator(value: Option<String>) -> Result<char, String> {
    let value = value.unwrap_or_default();
    match value.as_bytes() {
        [] => Ok(' '),
        [byte] if byte.is_ascii_graphic() || *byte == b' ' => Ok(char::from(*byte)),
        _ => Err(format!("indicator {value:?} is not one ASCII character")),
    }
}

/// Writes a MARCXML collection: the header on creation, one `<record>` per
/// [`MarcXmlWriter::write`], the closing tag on [`MarcXmlWriter::finish`].
pub struct MarcXmlWriter<W: Write> {
    output: W,
}

impl<W: Write> MarcXmlWriter<W> {
    /// Starts a collection on `output`.
    pub fn new(mut output: W) -> std::io::Result<Self> {
        write!(output, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"{NAMESPACE}\">\n")?;
        Ok(Self { output })
    }

    /// Writes one record.
    pub fn write(&mut self, record: &Record) -> std::io::Result<()> {
        write_record(record, &mut self.output)
    }

    /// Closes the collection and hands back the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        writeln!(self.output, "</collection>")?;
        Ok(self.output)
    }

    /// The output, for callers that drain it between records.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.output
    }
}

/// Writes one `<record>` element on its own (no XML declaration or
/// collection), e.g. to keep a record as text.
pub fn write_record<W: Write>(record: &Record, output: &mut W) -> std::io::Result<()> {
    writeln!(output, "<record>\n  <leader>{}</leader>", escape(record.leader_str()))?;
    for field in &record.fields {
        match field {
            Field::Control { tag, value } => {
                writeln!(output, "  <controlfield tag=\"{tag}\">{}</controlfield>", escape(value))?;
            }
            Field::Data(field) => {
                writeln!(
                    output,
                    "  <datafield tag=\"{}\" ind1=\"{}\" ind2=\"{}\">",
                    field.tag,
                    escape(&field.ind1.to_string()),
                    escape(&field.ind2.to_string())
                )?;
                for subfield in &field.subfields {
                    writeln!(
                        output,
                        "    <subfield code=\"{}\">{}</subfield>",
                        escape(&subfield.code.to_string()),
                        escape(&subfield.value)
                    )?;
                }
                writeln!(output, "  </datafield>")?;
            }
        }
    }
    writeln!(output, "</record>")
}

/// Escapes text for XML and drops characters XML 1.0 cannot carry at all
/// (most control characters), which some catalogues leave in records.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\t' | '\n' | '\r' => escaped.push(character),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {}
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests;

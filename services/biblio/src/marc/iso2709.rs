//! ISO 2709, the binary MARC exchange format: a 24-byte leader, a directory
//! of (tag, length, start) entries, then the fields, each ended by 0x1E,
//! and the record ended by 0x1D. The reader splits the input on 0x1D rather
//! than trusting the leader's length, so a record with a wrong length or a
//! broken directory is reported on its own and the next record still reads.
//! All lengths count bytes, never characters.

use std::io::{BufRead, Read, Write};

use super::{
    DataField, Field, LEADER_LEN, MAX_FIELD_BYTES, MAX_RECORD_BYTES, Problem, Record, RecordError, Subfield,
    Tag, WriteError,
};

/// Ends a record.
pub const RECORD_TERMINATOR: u8 = 0x1D;
/// Ends a field (and the directory).
pub const FIELD_TERMINATOR: u8 = 0x1E;
/// Starts a subfield.
pub const SUBFIELD_DELIMITER: u8 = 0x1F;

/// Reads ISO 2709 records one at a time from any buffered input.
pub struct Iso2709Reader<R> {
    input: R,
    buffer: Vec<u8>,
    record_number: u64,
    done: bool,
}

impl<R: BufRead> Iso2709Reader<R> {
    /// A reader over `input`; wrap files in a `BufReader`.
    pub fn new(input: R) -> Self {
        Self { input, buffer: Vec::new(), record_number: 0, done: false }
    }

    /// How many records (good or bad) have been read so far.
    pub fn records_read(&self) -> u64 {
        self.record_number
    }

    /// Drops input up to and including the next record terminator, after a
    /// record too long to hold.
    fn skip_to_terminator(&mut self) -> std::io::Result<()> {
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            if let Some(position) = available.iter().position(|&byte| byte == RECORD_TERMINATOR) {
                self.input.consume(position + 1);
                return Ok(());
            }
            let length = available.len();
            self.input.consume(length);
        }
    }

    fn io_error(&mut self, error: &std::io::Error) -> RecordError {
        self.done = true;
        RecordError::new(
            self.record_number + 1,
            None,
            Problem::Io,
            format!("reading the file failed: {error}"),
        )
    }
}

impl<R: BufRead> Iterator for Iso2709Reader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            self.buffer.clear();
            // One byte more than the largest record, so an endless record
            // is noticed without holding more than that.
            let limit = MAX_RECORD_BYTES as u64 + 1;
            let read = (&mut self.input).take(limit).read_until(RECORD_TERMINATOR, &mut self.buffer);
            match read {
                Err(error) => return Some(Err(self.io_error(&error))),
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
            }
            // Line breaks between records are common in files that passed
            // through a text editor or a Windows tool.
            let Some(start) =
                self.buffer.iter().position(|byte| !matches!(byte, b'\r' | b'\n' | b' ' | b'\t' | 0))
            else {
                continue;
            };
            if start + 1 == self.buffer.len() && self.buffer[start] == RECORD_TERMINATOR {
                continue;
            }
            self.record_number += 1;
            let record_number = self.record_number;
            if self.buffer.last() != Some(&RECORD_TERMINATOR) {
                if self.buffer.len() > MAX_RECORD_BYTES {
                    if let Err(error) = self.skip_to_terminator() {
                        return Some(Err(self.io_error(&error)));
                    }
                    return Some(Err(RecordError::new(
                        record_number,
                        None,
                        Problem::Size,
                        format!(
                            "no record terminator within {MAX_RECORD_BYTES} bytes; ISO 2709 records are shorter"
                        ),
                    )));
                }
                self.done = true;
                return Some(Err(RecordError::new(
                    record_number,
                    None,
                    Problem::Syntax,
                    "the file ends in the middle of this record (no record terminator); was it cut off?",
                )));
            }
            return Some(parse_record(&self.buffer[start..], record_number));
        }
    }
}

/// Parses one record: `bytes` runs from the leader through the record
/// terminator.
pub fn parse_record(bytes: &[u8], record_number: u64) -> Result<Record, RecordError> {
    let error =
        |tag: Option<&str>, problem, reason: String| RecordError::new(record_number, tag, problem, reason);
    if bytes.len() < LEADER_LEN + 2 {
        return Err(error(
            None,
            Problem::Leader,
            format!("the record is only {} bytes; a leader alone is {LEADER_LEN}", bytes.len()),
        ));
    }
    let mut leader = [0u8; LEADER_LEN];
    leader.copy_from_slice(&bytes[..LEADER_LEN]);
    if let Some(position) = leader.iter().position(|byte| !(byte.is_ascii_graphic() || *byte == b' ')) {
        return Err(error(
            None,
            Problem::Leader,
            format!(
                "leader position {position:02} holds byte 0x{:02X}; a leader is 24 ASCII characters",
                leader[position]
            ),
        ));
    }
    let record_length = digits(&leader[0..5]).ok_or_else(|| {
        error(None, Problem::Leader, "record length (leader 00-04) is not five digits".into())
    })?;
    if record_length != bytes.len() {
        return Err(error(
            None,
            Problem::Leader,
            format!(
                "the leader gives a record length of {record_length} bytes but the record has {} \
                 (cut off, or re-encoded without fixing the lengths?)",
                bytes.len()
            ),
        ));
    }
    let base = digits(&leader[12..17]).ok_or_else(|| {
        error(None, Problem::Leader, "base address of data (leader 12-16) is not five digits".into())
    })?;
    if base <= LEADER_LEN || base >= bytes.len() {
        return Err(error(
            None,
            Problem::Leader,
            format!("base address of data {base} lies outside the record of {} bytes", bytes.len()),
        ));
    }
    if bytes[base - 1] != FIELD_TERMINATOR {
        return Err(error(
            None,
            Problem::Directory,
            format!("the directory does not end at byte {} where the base address puts it", base - 1),
        ));
    }
    // Leader 20 and 21 give the widths of the length and start entries;
    // everyone uses 4 and 5, and a blank there means the same.
    let length_width = width(leader[20], 4);
    let start_width = width(leader[21], 5);
    let entry_width = 3 + length_width + start_width;
    let directory = &bytes[LEADER_LEN..base - 1];
    if !directory.len().is_multiple_of(entry_width) {
        return Err(error(
            None,
            Problem::Directory,
            format!(
                "the directory is {} bytes, not a whole number of {entry_width}-byte entries",
                directory.len()
            ),
        ));
    }
    let data = &bytes[base..bytes.len() - 1];
    let mut fields = Vec::with_capacity(directory.len() / entry_width);
    for (index, entry) in directory.chunks_exact(entry_width).enumerate() {
        let tag = Tag::new(&entry[..3]).ok_or_else(|| {
            error(None, Problem::Directory, format!("directory entry {} has no valid tag", index + 1))
        })?;
        let tag_text = tag.as_str();
        let length = digits(&entry[3..3 + length_width]);
        let start = digits(&entry[3 + length_width..]);
        let (Some(length), Some(start)) = (length, start) else {
            return Err(error(
                Some(tag_text),
                Problem::Directory,
                "the directory's length or start is not digits".into(),
            ));
        };
        if length == 0 || start.checked_add(length).is_none_or(|end| end > data.len()) {
            return Err(error(
                Some(tag_text),
                Problem::Size,
                format!(
                    "the directory gives {length} bytes at offset {start}, but the record has {} bytes of data",
                    data.len()
                ),
            ));
        }
        let content = &data[start..start + length];
        if content[length - 1] != FIELD_TERMINATOR {
            return Err(error(
                Some(tag_text),
                Problem::Directory,
                format!(
                    "the field does not end after the {length} bytes the directory gives (wrong directory lengths?)"
                ),
            ));
        }
        fields.push(
            parse_field(tag, &content[..length - 1])
                .map_err(|(problem, reason)| error(Some(tag_text), problem, reason))?,
        );
    }
    Ok(Record { leader, fields })
}

fn parse_field(tag: Tag, content: &[u8]) -> Result<Field, (Problem, String)> {
    if tag.is_control() {
        return Ok(Field::Control { tag, value: text(content)?.to_owned() });
    }
    let [ind1, ind2, rest @ ..] = content else {
        return Err((Problem::Field, "the field is too short to hold its two indicators".into()));
    };
    let indicator = |byte: u8| {
        if byte.is_ascii_graphic() || byte == b' ' {
            Ok(char::from(byte))
        } else {
            Err((Problem::Field, format!("indicator byte 0x{byte:02X} is not an ASCII character")))
        }
    };
    let (ind1, ind2) = (indicator(*ind1)?, indicator(*ind2)?);
    let mut pieces = rest.split(|&byte| byte == SUBFIELD_DELIMITER);
    if pieces.next().is_some_and(|before| !before.iter().all(|byte| *byte == b' ')) {
        return Err((Problem::Field, "there is data before the first subfield delimiter".into()));
    }
    let mut subfields = Vec::new();
    for piece in pieces {
        let Some((&code, value)) = piece.split_first() else {
            continue;
        };
        if !code.is_ascii_graphic() {
            return Err((
                Problem::Field,
                format!("subfield code byte 0x{code:02X} is not an ASCII character"),
            ));
        }
        let value =
            text(value).map_err(|(problem, reason)| (problem, format!("${}: {reason}", char::from(code))))?;
        subfields.push(Subfield { code: char::from(code), value: value.to_owned() });
    }
    Ok(Field::Data(DataField { tag, ind1, ind2, subfields }))
}

fn text(bytes: &[u8]) -> Result<&str, (Problem, String)> {
    std::str::from_utf8(bytes).map_err(|error| {
        (
            Problem::Encoding,
            format!(
                "invalid UTF-8 at byte {} of the value (is the file in GB 2312, GBK or MARC-8? Lectern reads UTF-8)",
                error.valid_up_to()
            ),
        )
    })
}

fn digits(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0usize, |value, byte| value * 10 + usize::from(byte - b'0')))
}

fn width(byte: u8, default: usize) -> usize {
    match byte {
        b'1'..=b'9' => usize::from(byte - b'0'),
        _ => default,
    }
}

/// Writes one record as ISO 2709. Lengths and the base address are
/// computed; leader positions 20–23 become `450` plus the record's own
/// position 23 (`0` for MARC21, blank for CNMARC). Delimiter bytes inside
/// values would corrupt the record, so they are written as spaces.
pub fn write_record<W: Write>(record: &Record, output: &mut W) -> Result<(), WriteError> {
    let mut directory = Vec::with_capacity(record.fields.len() * 12);
    let mut data = Vec::new();
    for field in &record.fields {
        let start = data.len();
        match field {
            Field::Control { value, .. } => push_clean(&mut data, value),
            Field::Data(field) => {
                data.push(ascii_or_space(field.ind1));
                data.push(ascii_or_space(field.ind2));
                for subfield in &field.subfields {
                    data.push(SUBFIELD_DELIMITER);
                    data.push(ascii_or_space(subfield.code));
                    push_clean(&mut data, &subfield.value);
                }
            }
        }
        data.push(FIELD_TERMINATOR);
        let tag = match field {
            Field::Control { tag, .. } => tag,
            Field::Data(field) => &field.tag,
        };
        let length = data.len() - start;
        if length > MAX_FIELD_BYTES {
            return Err(WriteError::FieldTooLong { tag: tag.to_string(), bytes: length });
        }
        directory.extend_from_slice(format!("{tag}{length:04}{start:05}").as_bytes());
    }
    directory.push(FIELD_TERMINATOR);
    let base = LEADER_LEN + directory.len();
    let total = base + data.len() + 1;
    if total > MAX_RECORD_BYTES {
        return Err(WriteError::RecordTooLong { bytes: total });
    }
    let mut leader = record.leader;
    leader[0..5].copy_from_slice(format!("{total:05}").as_bytes());
    leader[10] = b'2';
    leader[11] = b'2';
    leader[12..17].copy_from_slice(format!("{base:05}").as_bytes());
    leader[20..23].copy_from_slice(b"450");
    if !(leader[23] == b' ' || leader[23] == b'0') {
        leader[23] = b'0';
    }
    for byte in &mut leader {
        if !(byte.is_ascii_graphic() || *byte == b' ') {
            *byte = b' ';
        }
    }
    output.write_all(&leader)?;
    output.write_all(&directory)?;
    output.write_all(&data)?;
    output.write_all(&[RECORD_TERMINATOR])?;
    Ok(())
}

fn ascii_or_space(character: char) -> u8 {
    match u8::try_from(character) {
        Ok(byte) if byte.is_ascii_graphic() => byte,
        _ => b' ',
    }
}

fn push_clean(data: &mut Vec<u8>, value: &str) {
    data.extend(value.bytes().map(|byte| match byte {
        RECORD_TERMINATOR | FIELD_TERMINATOR | SUBFIELD_DELIMITER => b' ',
        other => other,
    }));
}

#[cfg(test)]
mod tests;

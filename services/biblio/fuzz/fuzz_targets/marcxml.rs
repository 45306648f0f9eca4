//! Any bytes through the MARCXML reader: it must never panic, and every
//! record it accepts must map and write back out as XML that reads again.
#![no_main]

use lectern_biblio::marc::{to_bib, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for record in xml::MarcXmlReader::new(data).flatten() {
        let _ = to_bib(&record, None);
        let mut writer = xml::MarcXmlWriter::new(Vec::new()).expect("writing to memory");
        writer.write(&record).expect("writing to memory");
        let bytes = writer.finish().expect("writing to memory");
        let again = xml::MarcXmlReader::new(&bytes[..]).next();
        assert!(matches!(again, Some(Ok(_))), "a written record did not read back: {again:?}");
    }
});

//! Any bytes through the ISO 2709 reader: it must never panic, and every
//! record it accepts must map and write back out and read again the same.
#![no_main]

use lectern_biblio::marc::{iso2709, to_bib};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for record in iso2709::Iso2709Reader::new(data).flatten() {
        let _ = to_bib(&record, None);
        let mut bytes = Vec::new();
        if iso2709::write_record(&record, &mut bytes).is_ok() {
            let again = iso2709::Iso2709Reader::new(&bytes[..]).next();
            assert!(matches!(again, Some(Ok(_))), "a written record did not read back: {again:?}");
        }
    }
});

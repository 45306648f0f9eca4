//! Any text through `Isbn::parse`: never a panic, and an accepted ISBN
//! parses again to itself from both its ISBN-13 and its ISBN-10.
#![no_main]

use lectern_biblio::isbn::Isbn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(isbn) = Isbn::parse(text) {
        assert_eq!(Isbn::parse(isbn.isbn13()).as_ref(), Ok(&isbn));
        if let Some(isbn10) = isbn.isbn10() {
            assert_eq!(Isbn::parse(&isbn10).as_ref(), Ok(&isbn));
        }
    }
});

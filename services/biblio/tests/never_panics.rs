//! The fuzz targets' promise on the stable toolchain, so every CI run checks
//! it: thousands of mutated MARC files and ISBNs (deterministic, seeded)
//! go through the parsers, which must answer each with a record or an
//! error and never panic. `services/biblio/fuzz` searches far wider with
//! libFuzzer; this keeps the regressions out.

use lectern_biblio::isbn::Isbn;
use lectern_biblio::marc::{iso2709, to_bib, xml};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// Bytes that matter to the formats, picked more often than chance would.
const INTERESTING: &[u8] =
    &[0x1D, 0x1E, 0x1F, b'0', b'9', b' ', b'<', b'>', b'&', b'"', b'/', 0xE4, 0xFF, 0x00];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let position = rng.below(bytes.len());
        match rng.below(7) {
            0 if !bytes.is_empty() => bytes[position] ^= 1 << rng.below(8),
            1 if !bytes.is_empty() => bytes[position] = INTERESTING[rng.below(INTERESTING.len())],
            2 => bytes.insert(position.min(bytes.len()), INTERESTING[rng.below(INTERESTING.len())]),
            3 if !bytes.is_empty() => {
                bytes.remove(position);
            }
            4 => bytes.truncate(position),
            5 if !bytes.is_empty() => bytes[position] = b'0' + rng.below(10) as u8,
            _ => {
                // Splice a slice of the seed somewhere else.
                let start = rng.below(seed.len());
                let end = (start + rng.below(64)).min(seed.len());
                let at = rng.below(bytes.len() + 1).min(bytes.len());
                bytes.splice(at..at, seed[start..end].iter().copied());
            }
        }
    }
    bytes
}

fn raw(fields: &[(&str, &[u8])], tail: &str) -> Vec<u8> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, content) in fields {
        let start = data.len();
        data.extend_from_slice(content);
        data.push(0x1E);
        directory.extend_from_slice(format!("{tag}{:04}{start:05}", data.len() - start).as_bytes());
    }
    directory.push(0x1E);
    let base = 24 + directory.len();
    let mut record = format!("{:05}nam a22{base:05}{tail}", base + data.len() + 1).into_bytes();
    record.extend(directory);
    record.extend(data);
    record.push(0x1D);
    record
}

fn iso_seed() -> Vec<u8> {
    let mut bytes = raw(
        &[
            ("001", b"1"),
            ("020", b"  \x1Fa9787020002207 (pbk.)\x1FcCNY48.00"),
            ("100", b"1 \x1FaCao, Wenxuan,\x1Feauthor."),
            ("245", b"10\x1FaBronze :\x1Fba novel /"),
            ("264", b" 1\x1FbWalker,\x1Fc2015."),
            ("952", b"  \x1FaMAIN\x1FpB1\x1Fybook\x1Fg48.00"),
        ],
        "   4500",
    );
    bytes.extend(raw(
        &[
            ("010", b"  \x1Fa978-7-5366-9293-0\x1FdCNY23.00"),
            ("200", "1 \x1Fa三体\x1Fe地球往事".as_bytes()),
            ("701", " 0\x1Fa刘慈欣\x1F4著".as_bytes()),
            ("995", b"  \x1FbM\x1FfC1\x1FkI247"),
        ],
        "   450 ",
    ));
    bytes
}

const XML_SEED: &str = r#"<?xml version="1.0"?><collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam a2200000   4500</leader><controlfield tag="001">7</controlfield><datafield tag="245" ind1="1" ind2="0"><subfield code="a">Tom &amp; Jerry &#x4E09;</subfield></datafield><datafield tag="952" ind1=" " ind2=" "><subfield code="p">B1</subfield></datafield></record><record><leader>00000nam0 2200000   450 </leader><datafield tag="200" ind1="1" ind2=" "><subfield code="a">三体</subfield></datafield></record></collection>"#;

#[test]
fn mutated_iso2709_files_never_panic() {
    let seed = iso_seed();
    let mut rng = Rng(0x5EED_0001);
    let mut records = 0;
    for _ in 0..3_000 {
        let input = mutate(&mut rng, &seed);
        for record in iso2709::Iso2709Reader::new(&input[..]).flatten() {
            records += 1;
            let _ = to_bib(&record, None);
            let mut bytes = Vec::new();
            if iso2709::write_record(&record, &mut bytes).is_ok() {
                assert!(matches!(iso2709::Iso2709Reader::new(&bytes[..]).next(), Some(Ok(_))));
            }
        }
    }
    assert!(records > 0, "some mutations keep records readable");
}

#[test]
fn mutated_marcxml_files_never_panic() {
    let mut rng = Rng(0x5EED_0002);
    for _ in 0..3_000 {
        let input = mutate(&mut rng, XML_SEED.as_bytes());
        for record in xml::MarcXmlReader::new(&input[..]).flatten() {
            let _ = to_bib(&record, None);
        }
    }
}

#[test]
fn random_isbns_never_panic() {
    let mut rng = Rng(0x5EED_0003);
    // Labelled and full-width seeds put multi-byte characters where the
    // label and separators are read, so mutations cut them mid-character.
    for seed in [
        "978-7-5366-9293-0",
        "7-02-000220-X",
        "9791234567896",
        "ISBN-13: 978-7-5366-9293-0",
        "ＩＳＢＮ：９７８－７－５３６６－９２９３－０",
        "isbn 7\u{2010}02\u{2014}000220\u{3000}ｘ",
    ] {
        for _ in 0..2_000 {
            let input = mutate(&mut rng, seed.as_bytes());
            if let Ok(text) = std::str::from_utf8(&input)
                && let Ok(isbn) = Isbn::parse(text)
            {
                assert_eq!(Isbn::parse(isbn.isbn13()).as_ref(), Ok(&isbn));
            }
        }
    }
}

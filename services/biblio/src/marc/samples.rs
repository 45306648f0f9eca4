//! Sample records as a school receives them, one MARC21 (an English
//! translation with two 952 items) and one CNMARC (a Chinese novel with a
//! 995 item), and the helpers that build them: for tests here, in the
//! catalog's suite and in examples.

use super::{DataField, Field, LEADER_LEN, Record, Subfield, Tag};

/// A leader from 24 characters.
pub fn leader(text: &str) -> [u8; LEADER_LEN] {
    let mut leader = [b' '; LEADER_LEN];
    for (slot, byte) in leader.iter_mut().zip(text.bytes()) {
        *slot = byte;
    }
    leader
}

fn tag_of(text: &str) -> Tag {
    Tag::new(text.as_bytes()).unwrap_or(Tag(*b"999"))
}

/// A control field.
pub fn control(tag: &str, value: &str) -> Field {
    Field::Control { tag: tag_of(tag), value: value.to_owned() }
}

/// A data field; `indicators` is two characters.
pub fn data(tag: &str, indicators: &str, subfields: &[(char, &str)]) -> Field {
    let mut indicators = indicators.chars();
    Field::Data(DataField {
        tag: tag_of(tag),
        ind1: indicators.next().unwrap_or(' '),
        ind2: indicators.next().unwrap_or(' '),
        subfields: subfields
            .iter()
            .map(|(code, value)| Subfield { code: *code, value: (*value).to_owned() })
            .collect(),
    })
}

/// A MARC21 record: ISBN twice (ISBN-13 and the same book's ISBN-10) and
/// one invalid, authors with roles, subjects, CLC and Dewey, two items.
pub fn marc21() -> Record {
    Record {
        leader: leader("00000nam a2200000   4500"),
        fields: vec![
            control("001", "ocm123"),
            control("008", "190101s2015    enk           000 1 eng d"),
            data("020", "  ", &[('a', "9787020002207 (pbk.)"), ('c', "CNY48.00")]),
            data("020", "  ", &[('a', "7-02-000220-X")]),
            data("020", "  ", &[('a', "9787020002208")]),
            data("041", "0 ", &[('a', "eng")]),
            data("082", "04", &[('a', "823/.92")]),
            data("084", "  ", &[('a', "I287.45"), ('2', "clc")]),
            data("100", "1 ", &[('a', "Cao, Wenxuan,"), ('e', "author.")]),
            data("245", "10", &[('a', "Bronze and sunflower :"), ('b', "a novel /"), ('c', "Cao Wenxuan.")]),
            data("250", "  ", &[('a', "1st ed.")]),
            data("264", " 1", &[('a', "London :"), ('b', "Walker Books,"), ('c', "2015.")]),
            data("300", "  ", &[('a', "xii, 356 p. ;"), ('c', "22 cm.")]),
            data("490", "0 ", &[('a', "Walker classics ;"), ('v', "3")]),
            data("520", "  ", &[('a', "Bronze cannot speak; Sunflower becomes his voice.")]),
            data("650", " 0", &[('a', "Friendship"), ('v', "Fiction.")]),
            data("650", " 0", &[('a', "China"), ('x', "History"), ('y', "1949-1976"), ('v', "Fiction.")]),
            data("700", "1 ", &[('a', "Wang, Helen,"), ('e', "translator.")]),
            data("700", "1 ", &[('a', "So, Meilo."), ('4', "ill")]),
            data(
                "952",
                "  ",
                &[
                    ('a', "MAIN"),
                    ('c', "一楼 A 区 3 架"),
                    ('o', "I287.45/C12"),
                    ('p', "B0001"),
                    ('y', "book"),
                    ('g', "48.00"),
                ],
            ),
            data("952", "  ", &[('a', "MAIN"), ('p', "B0002"), ('y', "picture_book")]),
        ],
    }
}

/// A CNMARC record: 010, 100, 101, 200, 210, 215, 225, 330, 606, 690,
/// 701/702 with Chinese relator terms, one 995 item.
pub fn cnmarc() -> Record {
    Record {
        leader: leader("00000nam0 2200000   450 "),
        fields: vec![
            control("001", "cn001"),
            data("010", "  ", &[('a', "978-7-5366-9293-0"), ('d', "CNY23.00")]),
            data("100", "  ", &[('a', "20190101d2008    em y0chiy50      ea")]),
            data("101", "0 ", &[('a', "chi")]),
            data("200", "1 ", &[('a', "三体"), ('9', "san ti"), ('e', "地球往事"), ('f', "刘慈欣著")]),
            data("205", "  ", &[('a', "第2版")]),
            data("210", "  ", &[('a', "重庆"), ('c', "重庆出版社"), ('d', "2008")]),
            data("215", "  ", &[('a', "302页"), ('d', "21cm")]),
            data("225", "2 ", &[('a', "中国科幻基石丛书")]),
            data("330", "  ", &[('a', "文化大革命如火如荼进行的同时。")]),
            data("606", "0 ", &[('a', "科学幻想小说"), ('y', "中国"), ('z', "当代")]),
            data("690", "  ", &[('a', "I247.55"), ('v', "5")]),
            data("701", " 0", &[('a', "刘慈欣"), ('4', "著")]),
            data("702", " 0", &[('a', "张三"), ('4', "绘")]),
            data(
                "995",
                "  ",
                &[
                    ('b', "MAIN"),
                    ('e', "二楼"),
                    ('f', "C0001"),
                    ('k', "I247.55/L61"),
                    ('r', "book"),
                    ('p', "23.00"),
                ],
            ),
        ],
    }
}

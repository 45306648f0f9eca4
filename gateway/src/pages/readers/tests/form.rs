//! The forms that add and change a reader.

use lectern_proto::reader::v1::Reader;

use super::super::form::{EditReaderPage, NewReaderPage, ReaderFields, Who, changes, check_reader};
use super::super::pin_card::{CardPage, PinPage, check_pin};
use super::*;

fn visit(lang: Lang) -> Visit {
    Visit {
        lang,
        csrf: shell(lang).csrf,
        fresh_csrf: false,
        path: "/readers/new".to_owned(),
        caller: crate::http::session::Caller::Anonymous,
        headers: http::HeaderMap::new(),
        label: String::new(),
    }
}

fn choices(lang: Lang) -> (Vec<Choice>, Vec<Choice>) {
    let categories = vec![
        Choice {
            value: "student".to_owned(),
            label: if lang == Lang::En { "Student" } else { "学生" }.to_owned(),
        },
        Choice {
            value: "teacher".to_owned(),
            label: if lang == Lang::En { "Teacher" } else { "教师" }.to_owned(),
        },
    ];
    (categories, class_choices())
}

fn who() -> Who {
    Who { path: "/readers/r1".to_owned(), name: "姚欣怡".to_owned(), card: "R100001".to_owned() }
}

fn fields() -> ReaderFields {
    ReaderFields {
        name: "姚欣怡".to_owned(),
        card_barcode: "R100001".to_owned(),
        category: "student".to_owned(),
        class_id: "c1".to_owned(),
        expires_on: "2027-07-31".to_owned(),
        number: "G3101012015".to_owned(),
        request_id: "req-1".to_owned(),
    }
}

#[test]
fn the_new_reader_form_renders_in_both_languages() {
    for lang in Lang::ALL {
        let (categories, classes) = choices(lang);
        let page = NewReaderPage {
            shell: desk_shell(lang),
            errors: Vec::new(),
            fields: ReaderFields {
                request_id: "req-1".to_owned(),
                category: "student".to_owned(),
                ..Default::default()
            },
            categories,
            classes,
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        for id in [
            "readers.new.title",
            "readers.name",
            "readers.card",
            "readers.category",
            "readers.class",
            "readers.no_class",
            "readers.form.expires_label",
            "readers.form.number_label",
            "readers.new.submit",
        ] {
            assert!(html.contains(&shown(text(lang, id))), "{id} in {}", lang.tag());
        }
        assert!(html.contains(r#"action="/readers/new""#));
        assert!(html.contains(r#"<option value="student" selected>"#));
        assert!(html.contains(r#"name="request_id" value="req-1""#));
        assert!(html.contains(r#"id="expires_on" name="expires_on" type="date""#));
        assert!(html.contains(r#"id="name" name="name" type="text" value="" autocomplete="off""#), "{html}");
        assert!(html.contains(" autofocus>"));
    }
}

#[test]
fn the_edit_form_holds_the_record_and_shows_refusals_by_their_field() {
    for lang in Lang::ALL {
        let (categories, classes) = choices(lang);
        let page = EditReaderPage {
            shell: desk_shell(lang),
            errors: vec![FieldMessage::field("number", text(lang, "reason.READER_NUMBER_TAKEN"))],
            who: who(),
            fields: fields(),
            categories,
            classes,
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&shown(text(lang, "readers.edit.title"))));
        assert!(!html.contains(r#"id="card_barcode""#), "a card is replaced on its own page");
        assert!(html.contains(r#"action="/readers/r1/edit""#));
        assert!(html.contains(r#"<option value="c1" selected>三年级(1)班</option>"#));
        assert!(html.contains(r#"value="2027-07-31""#));
        assert!(html.contains(r##"<a href="#number">"##));
        assert!(html.contains(r#"aria-invalid="true" autofocus>"#));
        assert!(html.contains(r#"href="/readers/r1""#));
    }
}

#[test]
fn the_pin_form_never_shows_a_pin() {
    for lang in Lang::ALL {
        let page = PinPage {
            shell: desk_shell(lang),
            errors: vec![FieldMessage::field("pin", text(lang, "readers.pin.mismatch"))],
            who: who(),
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        for id in [
            "readers.pin.title",
            "readers.pin.pin",
            "readers.pin.hint",
            "readers.pin.again",
            "readers.pin.mismatch",
        ] {
            assert!(html.contains(&shown(text(lang, id))), "{id}");
        }
        assert_eq!(html.matches(r#"type="password""#).count(), 2);
        assert_eq!(html.matches(r#"inputmode="numeric""#).count(), 2);
        assert!(html.contains(r#"id="pin" name="pin" type="password" autocomplete="off""#), "{html}");
        assert!(html.contains(r#"id="pin_again" name="pin_again" type="password" autocomplete="off""#));
        assert!(html.contains(r#"action="/readers/r1/pin""#));
    }
}

#[test]
fn the_card_form_warns_that_the_old_card_stops_working() {
    for lang in Lang::ALL {
        let page = CardPage {
            shell: desk_shell(lang),
            errors: Vec::new(),
            who: who(),
            new_card: String::new(),
            request_id: "req-c".to_owned(),
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        for id in [
            "readers.replace.title",
            "readers.replace.warning",
            "readers.replace.current",
            "readers.replace.new_card",
        ] {
            assert!(html.contains(&shown(text(lang, id))), "{id}");
        }
        assert!(html.contains("R100001"));
        assert!(html.contains(r#"name="request_id" value="req-c""#));
        assert!(html.contains(
            r#"id="new_card" name="new_card" type="text" value="" autocomplete="off" autocapitalize="none""#
        ));
    }
}

#[test]
fn typed_records_and_pins_are_checked_before_sending() {
    let visit = visit(Lang::ZhCn);
    assert!(check_reader(&visit, &fields(), true).is_empty());
    let bad = ReaderFields {
        name: " ".to_owned(),
        card_barcode: "R 1".to_owned(),
        category: String::new(),
        expires_on: "2027-13-01".to_owned(),
        number: "12 34".to_owned(),
        ..fields()
    };
    let fields_in_error: Vec<_> =
        check_reader(&visit, &bad, true).into_iter().map(|error| error.field).collect();
    assert_eq!(fields_in_error, ["name", "card_barcode", "category", "expires_on", "number"]);
    assert!(check_reader(&visit, &bad, false).iter().all(|error| error.field != "card_barcode"));
    assert!(check_pin(&visit, "1234", "1234").is_empty());
    assert_eq!(check_pin(&visit, "", "")[0].text, text(Lang::ZhCn, "readers.pin.missing"));
    assert_eq!(check_pin(&visit, "12a4", "12a4")[0].text, text(Lang::ZhCn, "readers.pin.bad"));
    assert_eq!(check_pin(&visit, "123456789", "123456789")[0].field, "pin");
    assert_eq!(check_pin(&visit, "1234", "")[0].field, "pin_again");
    assert_eq!(check_pin(&visit, "1234", "4321")[0].text, text(Lang::ZhCn, "readers.pin.mismatch"));
}

#[test]
fn an_edit_sends_only_what_changed() {
    let reader = Reader {
        id: "r1".to_owned(),
        name: "姚欣怡".to_owned(),
        category: "student".to_owned(),
        class_id: "c1".to_owned(),
        expires_on: "2027-07-31".to_owned(),
        number: "G3101012015".to_owned(),
        ..Reader::default()
    };
    let same = changes(&reader, &fields());
    assert_eq!(
        (same.name, same.category, same.class_id, same.expires_on, same.number),
        (None, None, None, None, None)
    );
    let moved = ReaderFields {
        class_id: String::new(),
        name: " 姚欣怡 ".to_owned(),
        number: "G1".to_owned(),
        ..fields()
    };
    let moved = changes(&reader, &moved);
    assert_eq!(moved.name, None);
    assert_eq!(moved.class_id.as_deref(), Some(""));
    assert_eq!(moved.number.as_deref(), Some("G1"));
    assert_eq!(moved.request_id, "req-1");
}

//! The engine's words where the guides show them: every message below is looked up, as the
//! engine writes it, in the text of the two original guides (`../shared/seeds`), so a change
//! of one character fails here. The guides are read in place, never copied.

#[path = "support/vectors.rs"]
mod vectors;

use ecpa::ErrorCode;
use ecpa::error::maintenance_notice;
use ecpa::portal::NoticeKind;
use ecpa::types::{Email, Lang, Password, RocDateTime};

fn assert_quoted(guides: &str, what: &str, words: &str) {
    assert!(guides.contains(words), "{what}: 「{words}」 is not the guides' wording");
}

#[test]
fn the_faq_login_errors_are_the_guides_words() {
    let Some(guides) = vectors::guides() else { return };
    for code in [
        ErrorCode::NhiCardNotRegistered,
        ErrorCode::RegistrationPasswordWrong,
        ErrorCode::AccountNotFound,
        ErrorCode::AccountDisabled,
    ] {
        assert_quoted(&guides, code.name(), code.message(Lang::ZhTw));
    }
}

#[test]
fn the_success_notices_are_the_guides_words() {
    let Some(guides) = vectors::guides() else { return };
    for kind in [NoticeKind::EmailConfirmed, NoticeKind::PasswordChanged] {
        assert_quoted(&guides, &format!("{kind:?}"), kind.message(Lang::ZhTw));
    }
}

#[test]
fn the_stop_in_person_note_is_the_login_pages_words() {
    let Some(guides) = vectors::guides() else { return };
    let note = NoticeKind::StopInPerson.message(Lang::ZhTw);
    // The guide prints the offices on the next line, in parentheses.
    let (sentence, offices) = note.split_once('（').expect("the offices in parentheses");
    assert_quoted(&guides, "stop in person", sentence);
    assert_quoted(&guides, "stop in person", offices.trim_end_matches('）'));
}

#[test]
fn the_form_hints_are_the_guides_words() {
    let Some(guides) = vectors::guides() else { return };
    let short = Password::new("abc12").expect_err("five characters are too few");
    assert_eq!(short.code(), ErrorCode::PasswordPolicy);
    let detail = short
        .detail()
        .expect("the length rule named")
        .get(Lang::ZhTw)
        .to_owned();
    assert_quoted(&guides, "password length", &detail);

    let warning = Email::parse("wang@hotmail.com")
        .expect("a Microsoft address is accepted")
        .microsoft_warning()
        .expect("and warned about");
    assert_quoted(&guides, "Microsoft mail", warning.message(Lang::ZhTw));
}

#[test]
fn a_maintenance_notice_reads_as_the_guides_example() {
    let Some(guides) = vectors::guides() else { return };
    let from = RocDateTime::parse("107/10/05 20:00").expect("a ROC time");
    let to = RocDateTime::parse("107/10/06 04:00").expect("a ROC time");
    let notice = maintenance_notice(from, to, Some("配合戶政系統維護"));
    assert_quoted(&guides, "maintenance notice", &notice);
}

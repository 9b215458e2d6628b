//! The APDU layer and the NHI card logic against recorded transcripts (tests/transcripts/):
//! 61xx chains, 6Cxx, 63C2 / 63C1 / 63C0, 6983, a non-NHI card, and the NHI-card login. These
//! need no pcscd; the same logic over a real pcscd is in card_pcscd.rs.

mod support;

use std::path::PathBuf;

use ecpa::card::apdu::{Command, StatusWord, transmit};
use ecpa::card::detect::{self, CardKind};
use ecpa::card::nhi;
use ecpa::card::replay::{Exchange, RecordingTransport, ReplayTransport, Transcript};
use ecpa::portal::LoginMethod;
use ecpa::types::{RocDate, Sex};
use ecpa::{Error, ErrorCode};
use support::{Fixture, Who, person};

fn transcript(name: &str) -> ReplayTransport {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "transcripts", name]
        .iter()
        .collect();
    ReplayTransport::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn reads_an_nhi_card() {
    let mut card = transcript("nhi_read.txt");
    assert_eq!(
        detect::kind_by_atr(ecpa::card::Transport::atr(&card)),
        Some(CardKind::Nhi)
    );
    let d = nhi::read_basic_data(&mut card).expect("reads");
    card.finish().expect("every exchange used");
    assert_eq!(d.card_number.as_str(), "000012345678");
    assert_eq!(d.name.as_str(), "陳小明");
    assert_eq!(d.name.raw, [0xB3, 0xAF, 0xA4, 0x70, 0xA9, 0xFA]);
    assert_eq!(d.national_id.reveal(), "A123456789");
    assert_eq!(d.birth_date, RocDate::new(69, 1, 15).expect("date"));
    assert_eq!(d.issue_date, RocDate::new(105, 7, 20).expect("date"));
    assert_eq!(d.sex, Sex::Male);
}

#[test]
fn follows_a_61xx_chain_with_get_response() {
    let mut card = transcript("nhi_read_61xx_chain.txt");
    let d = nhi::read_basic_data(&mut card).expect("reads through the chain");
    card.finish().expect("both GET RESPONSE rounds were sent");
    assert_eq!(d.name.as_str(), "陳小明");
    assert_eq!(d.issue_date, RocDate::new(105, 7, 20).expect("date"));
}

#[test]
fn resends_on_6cxx_with_the_length_the_card_asks() {
    let mut card = transcript("nhi_read_6cxx.txt");
    let selected = transmit(&mut card, &nhi::select_command()).expect("selects");
    assert_eq!(selected.sw, StatusWord::Success);
    let wrong_le = Command::new(0x00, 0xCA, 0x11, 0x00).with_data([0, 0]).with_le(5);
    let r = transmit(&mut card, &wrong_le).expect("re-sent with Le 39");
    assert_eq!(r.sw, StatusWord::Success);
    assert_eq!(r.data.len(), 0x39);
    card.finish().expect("the re-send was made");
}

fn verify() -> Command {
    Command::new(0x00, 0x20, 0x00, 0x81).with_data(*b"123456\xFF\xFF")
}

#[test]
fn wrong_pins_carry_the_tries_left() {
    let mut card = transcript("verify_63cx.txt");
    for left in [2, 1, 0] {
        match transmit(&mut card, &verify()) {
            Err(Error::PinIncorrect { tries_left }) => assert_eq!(tries_left, Some(left)),
            other => panic!("expected PinIncorrect with {left} tries left, got {other:?}"),
        }
    }
    card.finish().expect("three VERIFYs, no retry of our own");
    let e = Error::PinIncorrect { tries_left: Some(1) };
    assert_eq!(e.code(), ErrorCode::PinIncorrect);
    assert!(e.message(ecpa::types::Lang::En).contains("1 tries left"));
}

#[test]
fn a_blocked_pin_is_pin_blocked() {
    let mut card = transcript("verify_6983.txt");
    let e = transmit(&mut card, &verify()).expect_err("blocked");
    assert_eq!(e.code(), ErrorCode::PinBlocked);
    card.finish().expect("one VERIFY");
}

#[test]
fn another_card_is_unknown_and_not_read() {
    let mut card = transcript("other_card.txt");
    assert_eq!(detect::detect(&mut card).expect("detects"), CardKind::Unknown);
    let mut card = transcript("other_card.txt");
    let e = nhi::read_basic_data(&mut card).expect_err("not an NHI card");
    assert_eq!(e.code(), ErrorCode::CardUnsupported);
    assert!(
        e.message(ecpa::types::Lang::En).contains("6A82"),
        "{}",
        e.message(ecpa::types::Lang::En)
    );
}

#[test]
fn a_sending_mistake_fails_the_replay() {
    let mut card = transcript("nhi_read.txt");
    let e = transmit(&mut card, &nhi::read_basic_command()).expect_err("READ before SELECT is not in the transcript");
    assert_eq!(e.code(), ErrorCode::CardTranscriptInvalid);
}

#[test]
fn a_runaway_61xx_chain_is_an_error_not_a_hang() {
    let mut exchanges = vec![Exchange {
        command: nhi::read_basic_command().to_bytes().expect("encodes"),
        response: vec![0xAA, 0x61, 0x01],
    }];
    for _ in 0..300 {
        exchanges.push(Exchange {
            command: vec![0x00, 0xC0, 0x00, 0x00, 0x01],
            response: vec![0xAA, 0x61, 0x01],
        });
    }
    let mut card = ReplayTransport::new(Transcript {
        atr: Vec::new(),
        exchanges,
    });
    let e = transmit(&mut card, &nhi::read_basic_command()).expect_err("stops");
    assert_eq!(e.code(), ErrorCode::ApduInvalid);
}

#[test]
fn a_recording_replays_the_same_read() {
    let mut rec = RecordingTransport::new(transcript("nhi_read_61xx_chain.txt"));
    let first = nhi::read_basic_data(&mut rec).expect("reads");
    let (_, recorded) = rec.into_parts();
    let mut again = ReplayTransport::new(Transcript::parse(&recorded.to_text()).expect("parses"));
    assert_eq!(nhi::read_basic_data(&mut again).expect("reads"), first);
    again.finish().expect("same exchanges");
}

#[test]
fn nhi_card_login_reads_the_card_then_checks_the_password() {
    let fx = Fixture::new();
    fx.register(Who::Wang);
    let wang = person(Who::Wang);
    let record = wang.card_data().to_bytes();
    let card_transcript = || {
        let mut read_response = record.to_vec();
        read_response.extend_from_slice(&[0x90, 0x00]);
        ReplayTransport::new(Transcript {
            atr: Vec::new(),
            exchanges: vec![
                Exchange {
                    command: nhi::select_command().to_bytes().expect("encodes"),
                    response: vec![0x90, 0x00],
                },
                Exchange {
                    command: nhi::read_basic_command().to_bytes().expect("encodes"),
                    response: read_response,
                },
            ],
        })
    };
    let session =
        ecpa::portal::card_login::login_over(&fx.portal, &mut card_transcript(), &wang.pw()).expect("logs in");
    assert_eq!(session.info.method, LoginMethod::NhiCard);
    let wrong = ecpa::portal::card_login::login_over(&fx.portal, &mut card_transcript(), &support::pw("Wrong#2026x"));
    assert_eq!(
        wrong.err().map(|e| e.code()),
        Some(ErrorCode::RegistrationPasswordWrong)
    );
}

//! NHI card read over a real pcscd and a virtual card (vpcd), and the APDU round trip through
//! ecpa's transport beside a bare `pcsc` transmit loop measured in the same run (the floor).
//!
//! Needs pcscd with the vpcd driver (Debian `pcscd`, `vsmartcard-vpcd`). If no pcscd runs, the
//! bench starts one (`pcscd --foreground`), keeps its PID and stops it at the end; the virtual
//! card goes into `Virtual PCD 00 00` (127.0.0.1:35963).
//!
//! `cargo bench --features card --bench card`
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support/vpcd.rs"]
mod vpcd;

use std::ffi::CString;
use std::hint::black_box;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use ecpa::card::apdu::transmit;
use ecpa::card::{CardEvent, PcscContext, nhi};

const READER: &str = "Virtual PCD 00 00";
const PORT: u16 = 35963;

struct Daemon(Option<Child>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }
}

fn ensure_pcscd() -> Option<Daemon> {
    if Path::new("/run/pcscd/pcscd.comm").exists() && PcscContext::establish().is_ok() {
        return Some(Daemon(None));
    }
    let child = Command::new("/usr/sbin/pcscd")
        .arg("--foreground")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let daemon = Daemon(Some(child));
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if PcscContext::establish().is_ok() && std::net::TcpStream::connect(("127.0.0.1", PORT)).is_ok() {
            return Some(daemon);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn record() -> Vec<u8> {
    vpcd::nhi_record(
        "000012345678",
        &[0xB3, 0xAF, 0xA4, 0x70, 0xA9, 0xFA],
        "A123456789",
        "0690115",
        b'M',
        "1050720",
    )
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn benches(c: &mut Criterion) {
    let Some(_daemon) = ensure_pcscd() else {
        eprintln!("card bench: needs pcscd with the vpcd driver (apt-get install pcscd vsmartcard-vpcd); skipped");
        return;
    };
    let _card = match vpcd::VirtualCard::insert(PORT, vpcd::NhiApplet::new(record()), Duration::from_secs(5)) {
        Ok(card) => card,
        Err(e) => {
            eprintln!("card bench: cannot insert the virtual card on {PORT} ({e}); skipped");
            return;
        }
    };
    let ctx = PcscContext::establish().unwrap();
    ctx.wait_for(&[READER.to_owned()], CardEvent::Inserted, Duration::from_secs(5))
        .unwrap();

    let read_once = || {
        let mut card = ctx.connect(READER).unwrap();
        let data = nhi::read_basic_data(&mut card).unwrap();
        card.disconnect().unwrap();
        data
    };
    assert_eq!(read_once().name.as_str(), "陳小明");

    let mut g = c.benchmark_group("nhi_read");
    g.bench_function("connect_select_read_disconnect", |b| b.iter(|| black_box(read_once())));
    g.bench_function("read_nhi_new_context", |b| {
        b.iter(|| black_box(ecpa::card::read_nhi(Some(READER), Duration::from_secs(1)).unwrap()))
    });
    g.finish();

    // Median and p99 of single reads (criterion reports means of batches, not tails).
    let samples: Vec<Duration> = (0..2000)
        .map(|_| {
            let t = Instant::now();
            black_box(read_once());
            t.elapsed()
        })
        .collect();
    let (median, p99) = percentiles(samples);
    println!("nhi_read connect+select+read+disconnect over 2000 reads: median {median:?}, p99 {p99:?}");

    // APDU round trip: SELECT through ecpa's transmit (transport trait, status-word handling)
    // against a bare pcsc transmit of the same bytes on the same card.
    let select = nhi::select_command();
    let select_bytes = select.to_bytes().unwrap();
    let mut ours = ctx.connect(READER).unwrap();
    let bare_ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let bare = bare_ctx
        .connect(
            &CString::new(READER).unwrap(),
            pcsc::ShareMode::Shared,
            pcsc::Protocols::ANY,
        )
        .unwrap();
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let mut g = c.benchmark_group("apdu_round_trip");
    g.bench_function("bare_pcsc_transmit", |b| {
        b.iter(|| black_box(bare.transmit(black_box(&select_bytes), &mut buf).unwrap().len()))
    });
    g.bench_function("ecpa_transmit", |b| {
        b.iter(|| black_box(transmit(&mut ours, black_box(&select)).unwrap()))
    });
    g.finish();

    let time = |f: &mut dyn FnMut()| {
        let samples: Vec<Duration> = (0..5000)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        percentiles(samples).0
    };
    let mut floor = Duration::ZERO;
    let mut ecpa_rt = Duration::ZERO;
    // Interleave the two so machine noise hits both alike.
    for _ in 0..3 {
        floor += time(&mut || {
            black_box(bare.transmit(&select_bytes, &mut buf).unwrap().len());
        });
        ecpa_rt += time(&mut || {
            black_box(transmit(&mut ours, &select).unwrap());
        });
    }
    println!(
        "apdu round trip median: ecpa {:?}, bare pcsc {:?}, ratio {:.3}x",
        ecpa_rt / 3,
        floor / 3,
        ecpa_rt.as_secs_f64() / floor.as_secs_f64()
    );
    let _ = bare.disconnect(pcsc::Disposition::LeaveCard);
    ours.disconnect().unwrap();
}

criterion_group! {
    name = card;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3));
    targets = benches
}

fn main() {
    card();
    Criterion::default().configure_from_args().final_summary();
}

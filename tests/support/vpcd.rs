//! Virtual smart cards for a real pcscd, through the vpcd reader driver (TESTING.md).
//!
//! A card is a TCP client of the port vpcd listens on for its reader: connecting inserts the
//! card, closing the socket removes it. Each message is a 2-byte big-endian length and a
//! payload: one byte is a control code (0 power off, 1 power on, 2 reset, 4 send the ATR),
//! anything longer is a command APDU to answer.
//!
//! The card's socket has TCP_NODELAY and re-arms TCP_QUICKACK before every read; without them
//! each APDU would wait ~40 ms for a delayed ACK.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a virtual card does with a command.
pub enum Reply {
    /// Answer with this response APDU (data and status word).
    Respond(Vec<u8>),
    /// Close the connection instead of answering: the card is pulled out mid-command.
    Remove,
}

/// The behaviour of a virtual card.
pub trait Applet: Send + 'static {
    /// The ATR the card gives at power-on.
    fn atr(&self) -> Vec<u8>;
    /// The card was reset or powered off: forget selections.
    fn reset(&mut self) {}
    /// Answers one command APDU.
    fn apdu(&mut self, command: &[u8]) -> Reply;
}

/// A virtual card inserted into a vpcd reader, served by its own thread.
pub struct VirtualCard {
    stream: TcpStream,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl VirtualCard {
    /// Inserts the card into the reader listening on 127.0.0.1:`port`, retrying the connection
    /// for up to `timeout` (vpcd listens a few tens of milliseconds after pcscd starts).
    pub fn insert(port: u16, applet: impl Applet, timeout: Duration) -> io::Result<VirtualCard> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        stream.set_nodelay(true)?;
        let served = stream.try_clone()?;
        let thread = std::thread::Builder::new()
            .name(format!("vpcd-card-{port}"))
            .spawn(move || serve(served, applet))?;
        Ok(VirtualCard {
            stream,
            thread: Some(thread),
        })
    }

    /// Pulls the card out: closes the connection and waits for its thread.
    pub fn remove(mut self) {
        self.close();
    }

    /// Whether the card's thread has ended (pcscd closed the connection, or the applet
    /// removed itself).
    pub fn is_gone(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.close();
    }
}

fn read_message(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let _ = socket2::SockRef::from(&*stream).set_tcp_quickack(true);
    let mut len = [0u8; 2];
    match stream.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload)?;
    Ok(Some(payload))
}

fn write_message(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len()).map_err(|_| io::Error::other("message too long"))?;
    let mut msg = Vec::with_capacity(2 + payload.len());
    msg.extend_from_slice(&len.to_be_bytes());
    msg.extend_from_slice(payload);
    stream.write_all(&msg)
}

fn serve(mut stream: TcpStream, mut applet: impl Applet) -> io::Result<()> {
    while let Some(msg) = read_message(&mut stream)? {
        match msg.as_slice() {
            [0] | [2] => applet.reset(),
            [1] => {}
            [4] => write_message(&mut stream, &applet.atr())?,
            [_] => {}
            command => match applet.apdu(command) {
                Reply::Respond(r) => write_message(&mut stream, &r)?,
                Reply::Remove => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return Ok(());
                }
            },
        }
    }
    Ok(())
}

/// The NHI card's ATR.
pub const NHI_ATR: [u8; 23] = [
    0x3B, 0xEE, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x31, 0x80, 0x66, 0x40, 0x90, 0x93, 0x06, 0x0F, 0x17, 0x83,
    0x0F, 0x90, 0x00, 0xF3,
];
/// The NHI application's AID, as DOMAIN.md gives it.
pub const NHI_AID: [u8; 16] = [
    0xD1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00,
];

/// A virtual NHI card: SELECT of its AID, then READ of the 57-byte basic data, written here
/// from DOMAIN.md's byte layout independently of the crate.
pub struct NhiApplet {
    record: Vec<u8>,
    selected: bool,
    /// Pull the card out when READ arrives, instead of answering.
    pub remove_on_read: bool,
}

impl NhiApplet {
    /// A card with this record.
    pub fn new(record: Vec<u8>) -> NhiApplet {
        NhiApplet {
            record,
            selected: false,
            remove_on_read: false,
        }
    }
}

impl Applet for NhiApplet {
    fn atr(&self) -> Vec<u8> {
        NHI_ATR.to_vec()
    }

    fn reset(&mut self) {
        self.selected = false;
    }

    fn apdu(&mut self, command: &[u8]) -> Reply {
        let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x10];
        select.extend_from_slice(&NHI_AID);
        if command == select.as_slice() {
            self.selected = true;
            return Reply::Respond(vec![0x90, 0x00]);
        }
        match command {
            [0x00, 0xA4, ..] => Reply::Respond(vec![0x6A, 0x82]),
            [0x00, 0xCA, 0x11, 0x00, 0x02, 0x00, 0x00, 0x00] if self.selected => {
                if self.remove_on_read {
                    return Reply::Remove;
                }
                let mut r = self.record.clone();
                r.extend_from_slice(&[0x90, 0x00]);
                Reply::Respond(r)
            }
            [0x00, 0xCA, ..] => Reply::Respond(vec![0x69, 0x85]),
            _ => Reply::Respond(vec![0x6D, 0x00]),
        }
    }
}

/// Some other card: it has its own ATR and knows no application we ask for.
pub struct OtherApplet {
    /// Its ATR.
    pub atr: Vec<u8>,
}

impl OtherApplet {
    /// A card with a generic ATR (a JavaCard-like card with nothing installed).
    pub fn generic() -> OtherApplet {
        OtherApplet {
            atr: vec![
                0x3B, 0x8A, 0x80, 0x01, 0x45, 0x43, 0x50, 0x41, 0x2D, 0x54, 0x45, 0x53, 0x54, 0x00, 0x1E,
            ],
        }
    }
}

impl Applet for OtherApplet {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn apdu(&mut self, command: &[u8]) -> Reply {
        match command {
            [_, 0xA4, ..] => Reply::Respond(vec![0x6A, 0x82]),
            _ => Reply::Respond(vec![0x6D, 0x00]),
        }
    }
}

/// An NHI basic-data record from its fields, laid out as DOMAIN.md says (name padded with NUL).
pub fn nhi_record(card_number: &str, name_big5: &[u8], id: &str, birth: &str, sex: u8, issued: &str) -> Vec<u8> {
    assert!(card_number.len() == 12 && id.len() == 10 && birth.len() == 7 && issued.len() == 7);
    assert!(name_big5.len() <= 20);
    let mut r = Vec::with_capacity(57);
    r.extend_from_slice(card_number.as_bytes());
    let mut name = name_big5.to_vec();
    name.resize(20, 0x00);
    r.extend_from_slice(&name);
    r.extend_from_slice(id.as_bytes());
    r.extend_from_slice(birth.as_bytes());
    r.push(sex);
    r.extend_from_slice(issued.as_bytes());
    assert_eq!(r.len(), 57);
    r
}

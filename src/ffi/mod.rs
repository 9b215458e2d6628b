//! The C ABI (feature `ffi`): the whole flow for programs written in C, PHP, .NET, COBOL or
//! anything else that can call a C function. `include/ecpa.h` is generated from this module by
//! a pinned cbindgen (`tests/ffi_header.rs`), so these doc comments are the C documentation.
//!
//! # Conventions (every function follows them)
//!
//! - **Results.** Every function returns a `uint32_t`: `ECPA_OK` (0) on success, else the
//!   crate's stable error code (`ECPA_E_*`, the same numbers as the command, the HTTP API and
//!   the Python exceptions). `ecpa_error_message` gives a code's message in zh-TW or English;
//!   `ecpa_last_error_detail` gives the full message of the last failure on the calling thread.
//! - **Order of arguments.** The object (handle) first, then inputs, then outputs.
//! - **Outputs are written only on success.** The one exception is the size of a string
//!   output, which a too-small buffer also receives (see below), and the PIN / password tries
//!   left, which a refused PIN or password writes (see the functions that take them).
//! - **NULL.** Every pointer is checked: a NULL where a value is required gives
//!   `ECPA_E_FFI_NULL_POINTER`. Pointers documented as "may be NULL" are optional.
//! - **Strings in** are NUL-terminated UTF-8 (`const char *`); anything else gives
//!   `ECPA_E_FFI_STRING_INVALID`. Binary data (CSV files, certificates, keys) comes as a pointer
//!   and a length. The library never keeps a pointer passed in: it copies what it needs
//!   before returning. Passwords and PINs are copied into memory that is wiped when dropped.
//! - **Strings out** always go to a buffer the caller owns: `(char *buf, size_t len, size_t
//!   *out_len)`. On success the string and a terminating NUL are written and `*out_len` is
//!   the number of bytes written including the NUL. When `buf` is NULL or `len` is too small,
//!   nothing is written to `buf`, `*out_len` receives the size needed (including the NUL) and
//!   the call returns `ECPA_E_FFI_BUFFER_TOO_SMALL`: allocate that much and call again. That is
//!   why every call that returns a string only reads or is safe to repeat (viewing an order
//!   signs for it once; viewing it again changes nothing); calls that change state return
//!   only scalars and handles, and slow probes (`ecpa_doctor_run`) return a handle to read.
//!   A live listing (a portal other threads or processes change, the card readers) may grow
//!   between the two calls: the second then fails the same way with the new size, so loop
//!   until it succeeds.
//! - **Structured results** are JSON, exactly the JSON the HTTP API returns for the same
//!   operation (national IDs masked); each function says which type it holds.
//! - **Handles** are opaque pointers created by `*_new` / `*_open` / a login and released by
//!   the matching `*_free` / `*_close` (NULL is accepted there and ignored). A handle of the
//!   wrong kind or one already released is detected where possible (`ECPA_E_FFI_HANDLE_INVALID`),
//!   but using a released handle is undefined behaviour, as in any C library.
//! - **Threads.** An `ecpa_portal` may be shared by any number of threads at once (the engine is
//!   `Send + Sync`; SQLite and PostgreSQL access is serialised inside). Other handles
//!   (sessions, cards, signers, mailers) may move between threads but must not be used by two
//!   threads at the same time, except where a function says otherwise.
//! - **Panics** never cross the boundary: each function catches them and returns
//!   `ECPA_E_FFI_PANIC`.
//!
//! # Safety
//!
//! Every exported function is `unsafe` to call from Rust for the same reason C functions are:
//! each pointer argument must be NULL (where allowed) or valid for what the documentation says
//! (a NUL-terminated string, `len` readable or writable bytes, a live handle of that kind).
#![allow(unsafe_code)]
#![allow(clippy::missing_safety_doc)]

mod card;
mod flow;
mod portal;
mod trust;

use std::cell::RefCell;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, ErrorCode, Result};
use crate::types::{IdKind, Lang, NationalId, Sex};

pub use card::*;
pub use flow::*;
pub use portal::*;
pub use trust::*;

/// Success: every function returns it when it did what was asked.
pub const ECPA_OK: u32 = 0;
/// `lang` argument: Traditional Chinese (Taiwan), the default language of messages.
pub const ECPA_LANG_ZH_TW: u32 = 0;
/// `lang` argument: English.
pub const ECPA_LANG_EN: u32 = 1;
/// Sex (性別) as the NHI card and the national ID's second digit say: male.
pub const ECPA_SEX_MALE: u32 = 1;
/// Sex: female.
pub const ECPA_SEX_FEMALE: u32 = 2;
/// Kind of identifier: 身分證統一編號 (national ID).
pub const ECPA_ID_KIND_NATIONAL: u32 = 1;
/// Kind of identifier: old-style resident certificate (舊式居留證, second character A–D).
pub const ECPA_ID_KIND_RESIDENT_OLD: u32 = 2;
/// Kind of identifier: new-style resident certificate (新式居留證, second digit 8 or 9).
pub const ECPA_ID_KIND_RESIDENT_NEW: u32 = 3;
/// Tries left written to an `out_tries_left` when the card or service does not say how many.
pub const ECPA_TRIES_UNKNOWN: i32 = -1;

thread_local! {
    /// The last failure on this thread, for `ecpa_last_error_detail`.
    static LAST_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

fn set_last_error(e: Option<Error>) {
    LAST_ERROR.with(|l| *l.borrow_mut() = e);
}

/// What a caught panic said, for the detail of `ECPA_E_FFI_PANIC`.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Runs the body of an exported function: catches panics, records the failure (or clears it on
/// success) for `ecpa_last_error_detail`, and turns the result into the code C receives.
pub(crate) fn call(f: impl FnOnce() -> Result<()>) -> u32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error(None);
            ECPA_OK
        }
        Ok(Err(e)) => {
            let code = e.code().number();
            set_last_error(Some(e));
            code
        }
        Err(payload) => {
            let what = panic_text(payload.as_ref());
            set_last_error(Some(Error::with(ErrorCode::FfiPanic, what.clone(), what)));
            ErrorCode::FfiPanic.number()
        }
    }
}

/// [`call`] that never touches the last error: for the functions that read the last error or a
/// code's message, so asking about a failure (even with a too-small buffer) never replaces it.
fn quiet(f: impl FnOnce() -> Result<()>) -> u32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => ECPA_OK,
        Ok(Err(e)) => e.code().number(),
        Err(_) => ErrorCode::FfiPanic.number(),
    }
}

pub(crate) fn null(what: &'static str) -> Error {
    Error::with(
        ErrorCode::FfiNullPointer,
        format!("參數 {what} 為 NULL"),
        format!("argument {what} is NULL"),
    )
}

pub(crate) fn invalid(zh: String, en: String) -> Error {
    Error::with(ErrorCode::FfiArgumentInvalid, zh, en)
}

/// A required NUL-terminated UTF-8 string argument, borrowed for the call.
pub(crate) unsafe fn text<'a>(p: *const c_char, what: &'static str) -> Result<&'a str> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller guarantees a non-NULL `p` points to a NUL-terminated string that stays
    // valid for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|e| {
        Error::with(
            ErrorCode::FfiStringInvalid,
            format!("參數 {what} 第 {} 位元組起不是 UTF-8", e.valid_up_to()),
            format!("argument {what} is not UTF-8 from byte {}", e.valid_up_to()),
        )
    })
}

/// An optional string argument: NULL is `None`.
pub(crate) unsafe fn opt_text<'a>(p: *const c_char, what: &'static str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract: non-NULL `p` is a NUL-terminated string.
    unsafe { text(p, what) }.map(Some)
}

/// Required binary input `(ptr, len)`; a zero length may come with any pointer.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize, what: &'static str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller guarantees `p` points to `len` readable bytes for the call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Checks an output pointer before any work is done, so a NULL output fails without side effects.
pub(crate) fn out<T>(p: *mut T, what: &'static str) -> Result<()> {
    if p.is_null() { Err(null(what)) } else { Ok(()) }
}

/// Writes a scalar output (already checked non-NULL by [`out`]) or ignores a NULL optional one.
pub(crate) unsafe fn put<T>(p: *mut T, value: T) {
    if !p.is_null() {
        // SAFETY: the caller guarantees a non-NULL output pointer is valid for writing a `T`.
        unsafe { p.write(value) };
    }
}

/// A caller's string buffer `(buf, len, out_len)`, checked before the work is done.
pub(crate) struct StrOut {
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
}

impl StrOut {
    /// Checks `out_len` (required); `buf` may be NULL to ask for the size.
    pub(crate) fn new(buf: *mut c_char, len: usize, out_len: *mut usize) -> Result<StrOut> {
        out(out_len, "out_len")?;
        Ok(StrOut { buf, len, out_len })
    }

    /// For a call whose work cannot be done twice (a single sign-on redemption): refuses,
    /// before any work, a buffer smaller than `min` with the size `min` and
    /// `ECPA_E_FFI_BUFFER_TOO_SMALL`, so that the size query never spends the work.
    pub(crate) unsafe fn reserve(&self, min: usize) -> Result<()> {
        if !self.buf.is_null() && self.len >= min {
            return Ok(());
        }
        // SAFETY: `out_len` was checked non-NULL by `new` and is valid for writing a size_t.
        unsafe { self.out_len.write(min) };
        Err(Error::with(
            ErrorCode::FfiBufferTooSmall,
            format!("此呼叫須先備妥至少 {min} 位元組的緩衝區，緩衝區為 {} 位元組", self.len),
            format!(
                "this call needs a buffer of at least {min} bytes up front, the buffer holds {}",
                self.len
            ),
        ))
    }

    /// Writes `s` and its NUL, or the size needed and `ECPA_E_FFI_BUFFER_TOO_SMALL`.
    pub(crate) unsafe fn write(&self, s: &str) -> Result<()> {
        let needed = s.len() + 1;
        // SAFETY: `out_len` was checked non-NULL by `new` and is valid for writing a size_t.
        unsafe { self.out_len.write(needed) };
        if self.buf.is_null() || self.len < needed {
            return Err(Error::with(
                ErrorCode::FfiBufferTooSmall,
                format!("需要 {needed} 位元組，緩衝區為 {} 位元組", self.len),
                format!("{needed} bytes needed, the buffer holds {}", self.len),
            ));
        }
        // SAFETY: `buf` is non-NULL and the caller guarantees `len >= needed` writable bytes;
        // the source is a Rust string that cannot overlap the caller's buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), self.buf.cast::<u8>(), s.len());
            self.buf.add(s.len()).write(0);
        }
        Ok(())
    }

    /// Writes a value as JSON.
    pub(crate) unsafe fn json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let s = serde_json::to_string(value).map_err(|e| Error::internal(format!("JSON encoding failed: {e}")))?;
        // SAFETY: forwarded contract of `write`.
        unsafe { self.write(&s) }
    }
}

/// The language of a `lang` argument.
pub(crate) fn lang(n: u32) -> Result<Lang> {
    match n {
        ECPA_LANG_ZH_TW => Ok(Lang::ZhTw),
        ECPA_LANG_EN => Ok(Lang::En),
        other => Err(invalid(
            format!("lang 應為 0（中文）或 1（英文），收到 {other}"),
            format!("lang must be 0 (zh-TW) or 1 (en), got {other}"),
        )),
    }
}

/// The tries left of a refused PIN or password, as C receives them: a count, or -1 when unknown.
pub(crate) fn tries_left(e: &Error) -> Option<i32> {
    match e {
        Error::PinIncorrect { tries_left } => Some(tries_left.map_or(ECPA_TRIES_UNKNOWN, clamp)),
        Error::RegistrationPasswordWrong { tries_left } => Some(clamp(*tries_left)),
        _ if e.code() == ErrorCode::PinBlocked => Some(0),
        _ => None,
    }
}

fn clamp(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A tag at the start of every handle, so a handle of another kind (or a released one whose
/// memory was not reused) is refused instead of misread.
#[repr(C)]
pub(crate) struct Tagged<T> {
    magic: u64,
    pub(crate) value: T,
}

/// A kind of handle: its tag.
pub(crate) trait Handle: Sized {
    /// A number no other kind of handle uses.
    const MAGIC: u64;
    /// The tagged contents.
    fn tagged(&self) -> &Tagged<Self::Inner>;
    /// The tagged contents, mutable.
    fn tagged_mut(&mut self) -> &mut Tagged<Self::Inner>;
    /// What the handle holds.
    type Inner;
    /// Wraps contents into a handle.
    fn wrap(t: Tagged<Self::Inner>) -> Self;
}

macro_rules! handle {
    ($name:ident, $inner:ty, $magic:literal) => {
        // The tag is the first eight bytes of every handle: `Tagged` is `repr(C)` with the tag
        // first, and the handle's one field sits at offset 0 (checked here at compile time).
        const _: () = assert!(std::mem::offset_of!($name, inner) == 0);
        impl $crate::ffi::Handle for $name {
            const MAGIC: u64 = $magic;
            type Inner = $inner;
            fn tagged(&self) -> &$crate::ffi::Tagged<$inner> {
                &self.inner
            }
            fn tagged_mut(&mut self) -> &mut $crate::ffi::Tagged<$inner> {
                &mut self.inner
            }
            fn wrap(inner: $crate::ffi::Tagged<$inner>) -> Self {
                $name { inner }
            }
        }
    };
}
pub(crate) use handle;

/// Moves `value` into a new handle and writes it to `out` (checked non-NULL by [`out`]).
pub(crate) unsafe fn give<H: Handle>(out: *mut *mut H, value: H::Inner) {
    let h = Box::into_raw(Box::new(H::wrap(Tagged { magic: H::MAGIC, value })));
    // SAFETY: `out` was checked non-NULL and the caller guarantees it is writable.
    unsafe { out.write(h) };
}

fn bad_handle(what: &'static str) -> Error {
    Error::with(
        ErrorCode::FfiHandleInvalid,
        format!("參數 {what} 不是有效的物件代號"),
        format!("argument {what} is not a live handle of its kind"),
    )
}

/// Checks that `p` is a handle of kind `H`: not NULL, aligned, and starting with `H`'s tag.
unsafe fn check<H: Handle>(p: *const H, what: &'static str) -> Result<()> {
    if p.is_null() {
        return Err(null(what));
    }
    if !p.cast::<u64>().is_aligned() || !p.is_aligned() {
        return Err(bad_handle(what));
    }
    // SAFETY: the caller guarantees `p` points to a live handle of this library (of some
    // kind); every kind starts with its u64 tag (see `handle!`), so reading it is valid
    // whichever kind it is.
    let magic = unsafe { p.cast::<u64>().read() };
    if magic == H::MAGIC {
        Ok(())
    } else {
        Err(bad_handle(what))
    }
}

/// Borrows a handle's contents for the call.
pub(crate) unsafe fn get<'a, H: Handle + 'a>(p: *const H, what: &'static str) -> Result<&'a H::Inner> {
    // SAFETY: forwarded contract.
    unsafe { check(p, what) }?;
    // SAFETY: `p` is a live handle of kind `H` (checked above); handles are only read through
    // shared references here.
    Ok(&unsafe { &*p }.tagged().value)
}

/// Borrows a handle's contents mutably (handles a function changes, e.g. a trust being built).
pub(crate) unsafe fn get_mut<'a, H: Handle + 'a>(p: *mut H, what: &'static str) -> Result<&'a mut H::Inner> {
    // SAFETY: forwarded contract.
    unsafe { check(p, what) }?;
    // SAFETY: a live handle of kind `H`, used by no other thread during the call (the contract).
    Ok(&mut unsafe { &mut *p }.tagged_mut().value)
}

/// Releases a handle; NULL is ignored.
pub(crate) unsafe fn release<H: Handle>(p: *mut H, what: &'static str) -> Result<()> {
    if p.is_null() {
        return Ok(());
    }
    // SAFETY: forwarded contract.
    unsafe { check(p, what) }?;
    // SAFETY: a live handle of kind `H`, not shared during the call. Its tag is cleared first,
    // so a second release of the same memory is refused while the memory is not reused.
    unsafe { (*p).tagged_mut().magic = 0 };
    // SAFETY: the handle was made by `Box::into_raw` in `give` and is released exactly once.
    drop(unsafe { Box::from_raw(p) });
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Messages and the national ID check

/// Writes the general message of an error code, in zh-TW (`ECPA_LANG_ZH_TW`) or English
/// (`ECPA_LANG_EN`), to the caller's buffer. Code 0 is "成功" / "Success". An unknown code gives
/// `ECPA_E_FFI_ARGUMENT_INVALID`. Never changes what `ecpa_last_error_detail` reports.
/// Thread-safe; reads only static text.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_error_message(
    code: u32,
    lang: u32,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    quiet(|| {
        let o = StrOut::new(buf, len, out_len)?;
        let lang = self::lang(lang)?;
        let text = if code == ECPA_OK {
            lang.pick("成功", "Success")
        } else {
            ErrorCode::from_number(code)
                .ok_or_else(|| invalid(format!("無此錯誤代碼 {code}"), format!("no error code {code}")))?
                .message(lang)
        };
        // SAFETY: the buffer contract of this function, checked by `StrOut`.
        unsafe { o.write(text) }
    })
}

/// `notice` argument of [`ecpa_notice_message`]: a registration's (or new) e-mail address is
/// confirmed, 「已完成電子信箱認證」.
pub const ECPA_NOTICE_EMAIL_CONFIRMED: u32 = 1;
/// `notice` argument of [`ecpa_notice_message`]: a reset link set the new registration
/// password, 「註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！」.
pub const ECPA_NOTICE_PASSWORD_CHANGED: u32 = 2;
/// `notice` argument of [`ecpa_notice_message`]: 刪除註冊申請 is done.
pub const ECPA_NOTICE_APPLICATION_DELETED: u32 = 3;
/// `notice` argument of [`ecpa_notice_message`]: 基本資料異動 changed the phones.
pub const ECPA_NOTICE_DETAILS_CHANGED: u32 = 4;
/// `notice` argument of [`ecpa_notice_message`]: a new e-mail address waits for its link.
pub const ECPA_NOTICE_EMAIL_CHANGE_SENT: u32 = 5;
/// `notice` argument of [`ecpa_notice_message`]: the service's note that a registration is
/// stopped in person.
pub const ECPA_NOTICE_STOP_IN_PERSON: u32 = 6;
/// `notice` argument of [`ecpa_notice_message`]: the answer to 忘記帳號或密碼.
pub const ECPA_NOTICE_ACCOUNT_RECOVERY_SENT: u32 = 7;
/// `notice` argument of [`ecpa_notice_message`]: a recovery link set the account's password.
pub const ECPA_NOTICE_ACCOUNT_PASSWORD_CHANGED: u32 = 8;

/// Writes what the service tells the person after a call succeeded, in the guide's words, in
/// zh-TW or English: `ECPA_NOTICE_EMAIL_CONFIRMED` after `ecpa_registration_confirm`,
/// `ECPA_NOTICE_PASSWORD_CHANGED` after `ecpa_password_reset_complete`, and so on as each call
/// says (`ECPA_NOTICE_STOP_IN_PERSON` is the service's standing note). An unknown notice gives
/// `ECPA_E_FFI_ARGUMENT_INVALID`. Thread-safe; reads only static text.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_notice_message(
    notice: u32,
    lang: u32,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    use crate::portal::NoticeKind;
    quiet(|| {
        let o = StrOut::new(buf, len, out_len)?;
        let lang = self::lang(lang)?;
        // The constants number `NoticeKind::ALL` from 1.
        let kind = usize::try_from(notice)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| NoticeKind::ALL.get(i).copied())
            .ok_or_else(|| invalid(format!("無此通知 {notice}"), format!("no notice {notice}")))?;
        // SAFETY: the buffer contract of this function, checked by `StrOut`.
        unsafe { o.write(kind.message(lang)) }
    })
}

/// Writes the stable snake_case name of an error code (e.g. `registration_password_wrong`;
/// `ok` for 0). ASCII. Never changes what `ecpa_last_error_detail` reports. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_error_name(code: u32, buf: *mut c_char, len: usize, out_len: *mut usize) -> u32 {
    quiet(|| {
        let o = StrOut::new(buf, len, out_len)?;
        let name = if code == ECPA_OK {
            "ok"
        } else {
            ErrorCode::from_number(code)
                .ok_or_else(|| invalid(format!("無此錯誤代碼 {code}"), format!("no error code {code}")))?
                .name()
        };
        // SAFETY: the buffer contract of this function, checked by `StrOut`.
        unsafe { o.write(name) }
    })
}

/// Writes the full message of the last call that failed on this thread: the code's message and
/// the particulars of that failure (which field, how many tries are left, until when a lockout
/// lasts), in zh-TW or English. An empty string when the last call on this thread succeeded.
/// National IDs in it are masked. Per thread: each thread sees its own last failure. Asking
/// (even with a too-small buffer) never replaces the failure being asked about.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_last_error_detail(lang: u32, buf: *mut c_char, len: usize, out_len: *mut usize) -> u32 {
    quiet(|| {
        let o = StrOut::new(buf, len, out_len)?;
        let lang = self::lang(lang)?;
        let text = LAST_ERROR.with(|l| l.borrow().as_ref().map(|e| e.message(lang)).unwrap_or_default());
        // SAFETY: the buffer contract of this function, checked by `StrOut`.
        unsafe { o.write(&text) }
    })
}

/// The code of the last call that failed on this thread (0 when the last call succeeded), the
/// failure `ecpa_last_error_detail` describes. Per thread; never changes it.
#[unsafe(no_mangle)]
pub extern "C" fn ecpa_last_error_code() -> u32 {
    LAST_ERROR.with(|l| l.borrow().as_ref().map_or(ECPA_OK, |e| e.code().number()))
}

/// Checks a national ID (身分證統一編號) or resident certificate number (居留證號): returns
/// `ECPA_OK` when valid, else `ECPA_E_NATIONAL_ID_INVALID` (shape) or
/// `ECPA_E_NATIONAL_ID_CHECKSUM` (check digit). On success writes the kind
/// (`ECPA_ID_KIND_*`) to `out_kind` and the sex (`ECPA_SEX_*`) to `out_sex`; both may be NULL.
/// `id` is NUL-terminated UTF-8 and is not kept. Thread-safe; no I/O.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_id_check(id: *const c_char, out_kind: *mut u32, out_sex: *mut u32) -> u32 {
    call(|| {
        // SAFETY: `id` is a NUL-terminated string per this function's contract.
        let id = NationalId::parse(unsafe { text(id, "id") }?)?;
        let kind = match id.kind() {
            IdKind::National => ECPA_ID_KIND_NATIONAL,
            IdKind::ResidentOld => ECPA_ID_KIND_RESIDENT_OLD,
            IdKind::ResidentNew => ECPA_ID_KIND_RESIDENT_NEW,
        };
        let sex = match id.sex() {
            Sex::Male => ECPA_SEX_MALE,
            Sex::Female => ECPA_SEX_FEMALE,
        };
        // SAFETY: optional outputs: NULL is skipped, non-NULL is writable per the contract.
        unsafe {
            put(out_kind, kind);
            put(out_sex, sex);
        }
        Ok(())
    })
}

/// Panics inside the library on purpose and returns `ECPA_E_FFI_PANIC`: lets an embedder (and
/// the tests) check that a panic becomes a code and never unwinds into C. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ecpa_selftest_panic() -> u32 {
    call(|| -> Result<()> { panic!("ecpa_selftest_panic: a deliberate panic at the C boundary") })
}

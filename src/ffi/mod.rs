//! The C ABI, and nothing else: this module checks pointers and lengths, calls the core, and maps
//! errors. Conventions (docs/PROTOCOL.md, appendix A "C ABI"):
//!
//! * every fallible function returns `int32_t` (`DMP_OK` or a negative `DMP_ERR_*`) and runs its
//!   body inside [`guard`], which catches panics (`DMP_ERR_INTERNAL`) and records the detail of a
//!   failure for `dmp_last_error_message`;
//! * every pointer is checked before any side effect ([`input`], [`array_in`], [`array_out`],
//!   [`out_ref`], [`OutBuf`]); inputs may be NULL only with length 0;
//! * handles are `Box`ed, `Mutex`-guarded values whose ownership is written once ([`Handle`]),
//!   registered while alive, so a wrong, freed or stray handle is refused rather than read;
//! * outputs go into caller buffers; a too-small buffer reports the size needed and changes nothing.

pub mod agent;
pub mod group;
pub mod identity;
pub mod raw;
pub mod session;
pub mod sizes;
pub mod status;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::error::Error;

/// A failure at the boundary: the error, and what to tell `dmp_last_error_message`.
#[derive(Debug)]
pub struct FfiError {
    /// The status to return.
    pub error: Error,
    /// Extra detail (which argument, which size).
    pub detail: Option<String>,
}

impl From<Error> for FfiError {
    fn from(error: Error) -> Self {
        FfiError { error, detail: None }
    }
}

impl FfiError {
    /// An error with a detail message.
    pub fn new(error: Error, detail: impl Into<String>) -> Self {
        FfiError { error, detail: Some(detail.into()) }
    }
}

/// The result type of a guarded body.
pub type FfiResult<T = ()> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(function: &str, err: &FfiError) {
    let text = match &err.detail {
        Some(d) => format!("{function}: {} ({}): {d}", err.error.message(), err.error.name()),
        None => format!("{function}: {} ({})", err.error.message(), err.error.name()),
    };
    // Interior NULs cannot occur in our messages; fall back to an empty string if one did.
    let c = CString::new(text).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = c);
}

pub(crate) fn last_error_ptr() -> *const std::ffi::c_char {
    // The CString lives in this thread's slot until the next failure on this thread.
    LAST_ERROR.with(|slot| slot.borrow().as_ptr())
}

/// Runs an exported function's body: catches any panic, maps errors to status codes and records
/// the detail of a failure for this thread.
pub fn guard(function: &'static str, body: impl FnOnce() -> FfiResult) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => status::DMP_OK,
        Ok(Err(err)) => {
            set_last_error(function, &err);
            err.error.code()
        }
        Err(_) => {
            set_last_error(function, &FfiError::new(Error::Internal, "panic caught at the C boundary"));
            Error::Internal.code()
        }
    }
}

/// Runs a body that returns no status (the `free` functions): a panic is caught and dropped.
pub fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Runs a body returning a value (no status); a panic returns `fallback`.
pub fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn null(what: &str) -> FfiError {
    FfiError::new(Error::NullPointer, format!("`{what}` is NULL"))
}

/// The input `(ptr, len)` as a slice. NULL is allowed only with `len == 0`.
///
/// # Safety
/// If non-NULL, `ptr` must point to `len` readable bytes that stay valid for `'a`.
pub unsafe fn input<'a>(ptr: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    if len > isize::MAX as usize {
        return Err(FfiError::new(Error::InvalidArgument, format!("`{what}` length {len} overflows")));
    }
    // SAFETY: non-NULL, length bounded by isize::MAX, validity promised by the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A fixed-size input such as a key.
///
/// # Safety
/// If non-NULL, `ptr` must point to `N` readable bytes valid for `'a`.
pub unsafe fn array_in<'a, const N: usize>(ptr: *const u8, what: &str) -> FfiResult<&'a [u8; N]> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL; [u8; N] has alignment 1; validity promised by the caller.
    Ok(unsafe { &*(ptr as *const [u8; N]) })
}

/// A fixed-size output such as a public key.
///
/// # Safety
/// If non-NULL, `ptr` must point to `N` writable bytes valid for `'a`.
pub unsafe fn array_out<'a, const N: usize>(ptr: *mut u8, what: &str) -> FfiResult<&'a mut [u8; N]> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: as for array_in, writable.
    Ok(unsafe { &mut *(ptr as *mut [u8; N]) })
}

/// A scalar out-parameter.
///
/// # Safety
/// If non-NULL, `ptr` must be valid for writes of a `T`, properly aligned.
pub unsafe fn out_ref<'a, T>(ptr: *mut T, what: &str) -> FfiResult<&'a mut T> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL; alignment and validity promised by the caller.
    Ok(unsafe { &mut *ptr })
}

/// A caller's output buffer `(out, cap, out_len)`.
pub struct OutBuf<'a> {
    out: *mut u8,
    cap: usize,
    out_len: &'a mut usize,
}

impl<'a> OutBuf<'a> {
    /// Checks `out_len` (required) and `out` (may be NULL only when `cap == 0`).
    ///
    /// # Safety
    /// If non-NULL, `out` must point to `cap` writable bytes and `out_len` to a writable `size_t`.
    pub unsafe fn new(out: *mut u8, cap: usize, out_len: *mut usize) -> FfiResult<Self> {
        // SAFETY: forwarded caller promise.
        let out_len = unsafe { out_ref(out_len, "out_len") }?;
        if out.is_null() && cap != 0 {
            return Err(null("out"));
        }
        if cap > isize::MAX as usize {
            return Err(FfiError::new(Error::InvalidArgument, format!("`out_cap` {cap} overflows")));
        }
        Ok(OutBuf { out, cap, out_len })
    }

    /// Reserves exactly `needed` bytes: records the size, and fails with `BufferTooSmall` when
    /// the caller's buffer is smaller. Nothing is written on failure.
    pub fn reserve(&mut self, needed: usize) -> FfiResult<&mut [u8]> {
        *self.out_len = needed;
        if needed > self.cap {
            return Err(FfiError::new(
                Error::BufferTooSmall,
                format!("need {needed} bytes, out_cap is {}", self.cap),
            ));
        }
        if needed == 0 {
            return Ok(&mut []);
        }
        // SAFETY: out is non-NULL (cap >= needed > 0) and points to cap writable bytes.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.out, needed) })
    }

    /// The caller's whole buffer (`cap` bytes), for a core call that writes an unknown length up
    /// to it; [`set_len`](Self::set_len) then records what was written.
    pub fn whole(&mut self) -> &mut [u8] {
        if self.cap == 0 {
            return &mut [];
        }
        // SAFETY: out is non-NULL (checked in `new` for cap > 0) and points to cap writable bytes.
        unsafe { std::slice::from_raw_parts_mut(self.out, self.cap) }
    }

    /// Records that `len` bytes of [`whole`](Self::whole) were written.
    pub fn set_len(&mut self, len: usize) {
        *self.out_len = len;
    }

    /// Copies `bytes` out, or fails with `BufferTooSmall`.
    pub fn write(&mut self, bytes: &[u8]) -> FfiResult {
        self.reserve(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// The sink a core `*_with` call writes its plaintext into. The core sees only an error's
    /// code (and so changes nothing); the detail (the size needed) waits in `stash` for
    /// [`sink_result`].
    pub fn sink<'s>(
        &'s mut self,
        stash: &'s mut Option<FfiError>,
    ) -> impl FnOnce(&[u8]) -> Result<(), Error> + 's {
        move |pt| {
            self.write(pt).map_err(|e| {
                let code = e.error;
                *stash = Some(e);
                code
            })
        }
    }
}

/// The result of a core call made with an [`OutBuf::sink`]: the sink's own error, with its
/// detail, if it was the sink that failed.
pub fn sink_result<T>(result: Result<T, Error>, stash: Option<FfiError>) -> FfiResult<T> {
    result.map_err(|e| stash.unwrap_or(FfiError::from(e)))
}

/// The caller's 32-byte storage key.
pub(crate) fn storage_key_in(key32: *const u8) -> FfiResult<crate::state::StorageKey> {
    // SAFETY: exported functions require key32 to be NULL or point to 32 bytes.
    let bytes = unsafe { array_in::<32>(key32, "storage_key32") }?;
    Ok(crate::state::StorageKey::from_bytes(*bytes))
}

/// The body of every `dmp_*_deserialize`: checks the key, the record and `out`, opens the record
/// with `open` and stores the new handle.
///
/// # Safety
/// `record` NULL or valid for `record_len` reads; `key32` NULL or 32 reads; `out` NULL or valid
/// for a pointer write.
pub(crate) unsafe fn deserialize<H: Handle>(
    record: *const u8,
    record_len: usize,
    key32: *const u8,
    out: *mut *mut H,
    open: impl FnOnce(&[u8], &crate::state::StorageKey) -> crate::error::Result<H::Inner>,
) -> FfiResult {
    let key = storage_key_in(key32)?;
    // SAFETY: forwarded caller promise.
    let record = unsafe { input(record, record_len, "record") }?;
    if out.is_null() {
        return Err(null("out"));
    }
    let inner = open(record, &key)?;
    // SAFETY: forwarded caller promise.
    unsafe { H::store(out, inner) }
}

/// Every live handle, with its kind's tag. A handle is checked here before it is touched, so a
/// handle of another kind, a freed handle or a stray pointer is refused (`InvalidArgument`)
/// instead of being dereferenced, and freeing a handle twice is harmless.
///
/// A `BTreeMap`, not a `HashMap`: its nodes are referenced by pointers to their start, so leak
/// checkers see the registry of a process that exits with live handles as reachable.
fn registry() -> &'static Mutex<BTreeMap<usize, u64>> {
    static REGISTRY: OnceLock<Mutex<BTreeMap<usize, u64>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn registered_tag(addr: usize) -> Option<u64> {
    registry().lock().unwrap_or_else(|e| e.into_inner()).get(&addr).copied()
}

/// Ownership of one kind of opaque handle, written once: a `Box` holding a `Mutex` (concurrent
/// calls on one handle are serialized), registered while alive.
pub trait Handle: Sized + 'static {
    /// The wrapped core type.
    type Inner;
    /// A tag unique to this handle type.
    const TAG: u64;
    /// The C name, for messages.
    const NAME: &'static str;
    /// Wraps a value.
    fn wrap(inner: Self::Inner) -> Self;
    /// The guarded value.
    fn mutex(&self) -> &Mutex<Self::Inner>;

    /// Moves a value to the heap, registers it, and hands out the pointer.
    fn into_raw(inner: Self::Inner) -> *mut Self {
        let ptr = Box::into_raw(Box::new(Self::wrap(inner)));
        registry().lock().unwrap_or_else(|e| e.into_inner()).insert(ptr as usize, Self::TAG);
        ptr
    }

    /// Locks the handle behind `ptr`. NULL is `NullPointer`; a handle of another kind, a freed
    /// one or any other pointer is `InvalidArgument`; a handle poisoned by an earlier internal
    /// failure is `Internal`.
    ///
    /// # Safety
    /// `ptr` must not be freed by another thread during the call.
    unsafe fn lock<'a>(ptr: *const Self) -> FfiResult<MutexGuard<'a, Self::Inner>> {
        if ptr.is_null() {
            return Err(null(Self::NAME));
        }
        match registered_tag(ptr as usize) {
            Some(tag) if tag == Self::TAG => {}
            Some(_) => {
                return Err(FfiError::new(
                    Error::InvalidArgument,
                    format!("not a {}: a handle of another kind", Self::NAME),
                ));
            }
            None => {
                return Err(FfiError::new(
                    Error::InvalidArgument,
                    format!("not a live {} (freed, or not a handle)", Self::NAME),
                ));
            }
        }
        // SAFETY: registered, so created by into_raw and not yet freed.
        let handle = unsafe { &*ptr };
        handle.mutex().lock().map_err(|_| {
            FfiError::new(Error::Internal, format!("{} poisoned by an earlier failure", Self::NAME))
        })
    }

    /// Stores a new handle in `*out`.
    ///
    /// # Safety
    /// `out` must be valid for a pointer write (checked for NULL).
    unsafe fn store(out: *mut *mut Self, inner: Self::Inner) -> FfiResult {
        // SAFETY: forwarded caller promise.
        let out = unsafe { out_ref(out, "out") }?;
        *out = Self::into_raw(inner);
        Ok(())
    }

    /// Releases a handle; its secrets are zeroized as the value drops. NULL, a handle of another
    /// kind, an already freed handle or any other pointer is ignored.
    ///
    /// # Safety
    /// `ptr` must not be in use by another thread.
    unsafe fn free(ptr: *mut Self) {
        if ptr.is_null() {
            return;
        }
        let owned = {
            let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
            match reg.get(&(ptr as usize)) {
                Some(tag) if *tag == Self::TAG => reg.remove(&(ptr as usize)).is_some(),
                _ => false,
            }
        };
        if owned {
            // SAFETY: it was registered as this type, so it came from Box::into_raw in into_raw,
            // and it is now unregistered, so it is dropped exactly once.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}

/// Clears an out-pointer for a handle, so that a failed creation leaves NULL behind.
///
/// # Safety
/// `out` must be NULL or valid for a pointer write.
pub unsafe fn clear_handle_out<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: non-NULL, valid for writes (caller promise).
        unsafe { *out = std::ptr::null_mut() };
    }
}

/// Copies what a call made into `buf`, which was reserved beforehand at the length the call's
/// size query (`predicted_by`) gave, so that a too-small buffer changed nothing. The two always
/// agree; if they ever did not, the result is `DMP_ERR_INTERNAL`, never a panic that would
/// poison the handle.
pub fn fill_reserved(buf: &mut [u8], made: &[u8], predicted_by: &str) -> FfiResult {
    if made.len() != buf.len() {
        return Err(FfiError::new(Error::Internal, format!("output length differs from {predicted_by}")));
    }
    buf.copy_from_slice(made);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_body_returns_internal() {
        let code = guard("dmp_test", || panic!("boom"));
        assert_eq!(code, Error::Internal.code());
        // SAFETY: last_error_ptr is a valid C string for this thread.
        let msg = unsafe { std::ffi::CStr::from_ptr(last_error_ptr()) }.to_str().unwrap();
        assert!(msg.contains("dmp_test") && msg.contains("panic"), "{msg}");
    }

    #[test]
    fn output_of_another_length_than_reserved_is_internal_and_writes_nothing() {
        let mut buf = [0xAAu8; 4];
        for made in [&[1u8, 2, 3][..], &[1, 2, 3, 4, 5], &[]] {
            let err = fill_reserved(&mut buf, made, "size_query").unwrap_err();
            assert_eq!(err.error, Error::Internal);
            assert!(err.detail.as_deref().unwrap().contains("size_query"));
            assert_eq!(buf, [0xAA; 4]);
        }
        fill_reserved(&mut buf, &[1, 2, 3, 4], "size_query").unwrap();
        assert_eq!(buf, [1, 2, 3, 4]);
    }

    #[test]
    fn errors_map_to_their_codes_and_detail() {
        let code = guard("dmp_test", || Err(FfiError::new(Error::TooLarge, "detail here")));
        assert_eq!(code, Error::TooLarge.code());
        // SAFETY: as above.
        let msg = unsafe { std::ffi::CStr::from_ptr(last_error_ptr()) }.to_str().unwrap();
        assert!(msg.contains("DMP_ERR_TOO_LARGE") && msg.contains("detail here"), "{msg}");
        assert_eq!(guard("dmp_test", || Ok(())), 0);
    }

    #[test]
    fn guard_value_and_void_survive_panics() {
        assert_eq!(guard_value(7u32, || panic!("x")), 7);
        guard_void(|| panic!("x"));
    }

    #[test]
    fn wrong_freed_and_stray_handles_are_refused_and_double_free_is_harmless() {
        use super::identity::{
            DmpIdentity, dmp_identity_free, dmp_identity_generate, dmp_identity_public_key,
        };
        use super::session::{DmpSession, dmp_session_state};
        let mut id: *mut DmpIdentity = std::ptr::null_mut();
        // SAFETY: valid out-pointers throughout; the point is what happens with bad handles.
        unsafe {
            assert_eq!(dmp_identity_generate(&mut id), 0);
            let mut pk = [0u8; 32];
            assert_eq!(dmp_identity_public_key(id, pk.as_mut_ptr()), 0);
            let mut state = 0i32;
            assert_eq!(dmp_session_state(id as *const DmpSession, &mut state), Error::InvalidArgument.code());
            let stray = pk.as_ptr() as *const DmpIdentity;
            assert_eq!(dmp_identity_public_key(stray, pk.as_mut_ptr()), Error::InvalidArgument.code());
            dmp_identity_free(id);
            assert_eq!(dmp_identity_public_key(id, pk.as_mut_ptr()), Error::InvalidArgument.code());
            dmp_identity_free(id); // a second free is ignored
        }
    }

    #[test]
    fn huge_lengths_are_refused_before_any_pointer_is_read() {
        use super::raw::{dmp_aead_open, dmp_aead_seal};
        let key = [1u8; 32];
        let mut out = [0u8; 64];
        let mut len = 0usize;
        // SAFETY: the lengths lie on purpose; the library must refuse them without reading.
        unsafe {
            let rc = dmp_aead_seal(
                key.as_ptr(),
                key.as_ptr(),
                usize::MAX,
                key.as_ptr(),
                4,
                out.as_mut_ptr(),
                64,
                &mut len,
            );
            assert_eq!(rc, Error::InvalidArgument.code());
            let rc = dmp_aead_open(
                key.as_ptr(),
                key.as_ptr(),
                0,
                key.as_ptr(),
                isize::MAX as usize + 1,
                out.as_mut_ptr(),
                64,
                &mut len,
            );
            assert_eq!(rc, Error::InvalidArgument.code());
            let rc = dmp_aead_seal(
                key.as_ptr(),
                key.as_ptr(),
                0,
                key.as_ptr(),
                4,
                out.as_mut_ptr(),
                usize::MAX,
                &mut len,
            );
            assert_eq!(rc, Error::InvalidArgument.code());
        }
    }

    #[test]
    fn sink_keeps_the_detail_and_the_core_sees_the_code() {
        let mut len = 0usize;
        let mut buf = [0u8; 2];
        // SAFETY: valid buffer and length pointer.
        let mut out = unsafe { OutBuf::new(buf.as_mut_ptr(), 2, &mut len) }.unwrap();
        let mut stash = None;
        let core: Result<(), Error> = (out.sink(&mut stash))(b"four");
        assert_eq!(core, Err(Error::BufferTooSmall));
        let err = sink_result(core, stash).unwrap_err();
        assert_eq!(err.error, Error::BufferTooSmall);
        assert!(err.detail.unwrap().contains("need 4 bytes"));
        assert_eq!(len, 4);
        assert_eq!(sink_result::<()>(Err(Error::AuthFailed), None).unwrap_err().error, Error::AuthFailed);
    }

    #[test]
    fn out_buf_reports_size_needed() {
        let mut len = 0usize;
        let mut buf = [0u8; 4];
        // SAFETY: valid buffer and length pointer.
        let mut out = unsafe { OutBuf::new(buf.as_mut_ptr(), 4, &mut len) }.unwrap();
        assert_eq!(out.write(&[1; 5]).unwrap_err().error, Error::BufferTooSmall);
        assert_eq!(len, 5);
        // SAFETY: as above.
        let mut out = unsafe { OutBuf::new(buf.as_mut_ptr(), 4, &mut len) }.unwrap();
        out.write(&[1; 3]).unwrap();
        assert_eq!((len, buf), (3, [1, 1, 1, 0]));
        // SAFETY: NULL out with cap 0 is a size query.
        assert!(unsafe { OutBuf::new(std::ptr::null_mut(), 0, &mut len) }.is_ok());
        // SAFETY: NULL out with cap > 0 is refused before any write.
        assert_eq!(
            unsafe { OutBuf::new(std::ptr::null_mut(), 1, &mut len) }.err().unwrap().error,
            Error::NullPointer
        );
    }
}

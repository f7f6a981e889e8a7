//! The C ABI, and nothing else: this module checks pointers and lengths, calls the core, and maps
//! errors. Conventions (docs/PROTOCOL.md, appendix A "C ABI"):
//!
//! * every fallible function returns `int32_t` (`DMP_OK` or a negative `DMP_ERR_*`) and runs its
//!   body inside [`guard`], which catches panics (`DMP_ERR_INTERNAL`) and records the detail of a
//!   failure for `dmp_last_error_message`;
//! * every pointer is checked before any side effect ([`input`], [`array_in`], [`array_out`],
//!   [`out_ref`], [`OutBuf`]); inputs may be NULL only with length 0;
//! * handles are `Arc`ed, `Mutex`-guarded values whose ownership is written once ([`Handle`]),
//!   owned by a registry while alive and looked up there, never dereferenced, so a wrong, freed
//!   or stray handle is refused, and a call racing a free completes on a value it holds itself;
//! * outputs go into caller buffers; a too-small buffer reports the size needed and changes nothing.

pub mod agent;
pub mod group;
pub mod identity;
pub mod raw;
pub mod session;
pub mod sizes;
pub mod status;

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

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

/// The bytes one pointer argument of a call covers, named for messages (see [`disjoint`]).
/// NULL, an empty length and a length the pointer checks refuse (above `isize::MAX`) cover
/// nothing: those arguments are refused afterwards with their own errors.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    name: &'static str,
    start: usize,
    end: usize,
}

/// The `len` bytes at `ptr`: a byte string, a fixed-size key or id, or an output buffer.
pub fn bytes(name: &'static str, ptr: *const u8, len: usize) -> Span {
    let start = ptr as usize;
    let len = if ptr.is_null() || len > isize::MAX as usize { 0 } else { len };
    Span { name, start, end: start.saturating_add(len) }
}

/// The `T` at `ptr`: a scalar or handle out-parameter (`out_len`, `count_out`, `out`).
pub fn scalar<T>(name: &'static str, ptr: *const T) -> Span {
    bytes(name, ptr.cast(), std::mem::size_of::<T>())
}

fn overlap(a: &Span, b: &Span) -> bool {
    a.start < a.end && b.start < b.end && a.start < b.end && b.start < a.end
}

/// Refuses a call whose outputs share a byte with one of its inputs or with each other:
/// `InvalidArgument`, with a detail naming the two arguments. Run first, on the raw pointers,
/// before any reference is made from them and before anything is written (`*out_len` and
/// handle out-pointers included): an output written while an input is read would leave garbage
/// in both (and overlapping `&[u8]` and `&mut [u8]` are undefined behaviour in Rust). Inputs
/// may overlap each other.
pub fn disjoint(inputs: &[Span], outputs: &[Span]) -> FfiResult {
    for (i, out) in outputs.iter().enumerate() {
        let clash = inputs.iter().chain(&outputs[i + 1..]).find(|other| overlap(out, other));
        if let Some(other) = clash {
            return Err(FfiError::new(
                Error::InvalidArgument,
                format!("`{}` overlaps `{}` (buffers must not overlap)", out.name, other.name),
            ));
        }
    }
    Ok(())
}

/// A message the caller may have signed with an identity or any Ed25519 key: one that begins
/// with [`RESERVED_SIGNING_PREFIX`] ("DMP") is the protocol's own (a prekey bundle's signature
/// covers "DMP1 prekey bundle" || ...) and is refused, so that no signature made through the C
/// ABI can pass for a protocol signature.
///
/// [`RESERVED_SIGNING_PREFIX`]: crate::identity::RESERVED_SIGNING_PREFIX
pub(crate) fn application_message(msg: &[u8]) -> FfiResult<&[u8]> {
    if msg.starts_with(crate::identity::RESERVED_SIGNING_PREFIX) {
        return Err(FfiError::new(
            Error::InvalidArgument,
            "messages that begin with \"DMP\" are reserved for the protocol's own signatures",
        ));
    }
    Ok(msg)
}

/// The caller's 32-byte storage key.
pub(crate) fn storage_key_in(key32: *const u8) -> FfiResult<crate::state::StorageKey> {
    // SAFETY: exported functions require key32 to be NULL or point to 32 bytes.
    let bytes = unsafe { array_in::<32>(key32, "storage_key32") }?;
    Ok(crate::state::StorageKey::from_bytes(*bytes))
}

/// The body of every `dmp_*_deserialize`: checks that `out` overlaps neither input, clears it,
/// checks the key and the record, opens the record with `open` and stores the new handle.
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
    disjoint(
        &[bytes("record", record, record_len), bytes("storage_key32", key32, 32)],
        &[scalar("out", out)],
    )?;
    // SAFETY: forwarded caller promise.
    unsafe { clear_handle_out(out) };
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

/// The next handle token. Tokens start high and step by 16, so they look like aligned pointers to
/// callers that keep them as such (Zig, ctypes) and no small integer or NULL is ever one.
static NEXT_HANDLE: AtomicUsize = AtomicUsize::new(0x1000_0000);
const HANDLE_STEP: usize = 16;

/// Every live handle, by token, with the reference that owns it. A handle is looked up here,
/// never dereferenced, so a handle of another kind, a freed handle or a stray pointer is refused
/// (`InvalidArgument`), and freeing a handle twice is harmless (tokens are never reused). A call clones the reference
/// under this mutex before it locks the handle, so a `free` racing it only drops the registry's
/// reference: the value lives until the call's clone drops, and the call completes on it.
///
/// A `BTreeMap`, not a `HashMap`: its nodes are referenced by pointers to their start, so leak
/// checkers see the registry of a process that exits with live handles as reachable.
type Registry = Mutex<BTreeMap<usize, Arc<dyn Any + Send + Sync>>>;

fn registry() -> MutexGuard<'static, BTreeMap<usize, Arc<dyn Any + Send + Sync>>> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(BTreeMap::new())).lock().unwrap_or_else(|e| e.into_inner())
}

/// Ownership of one kind of opaque handle, written once: an `Arc` holding a `Mutex` (concurrent
/// calls on one handle are serialized), owned by the registry while the handle is live and by
/// each call in progress on it.
pub trait Handle: Sized + Send + Sync + 'static {
    /// The wrapped core type.
    type Inner: Send + 'static;
    /// The C name, for messages.
    const NAME: &'static str;
    /// Wraps a value.
    fn wrap(inner: Self::Inner) -> Self;
    /// The guarded value.
    fn mutex(&self) -> &Mutex<Self::Inner>;

    /// Moves a value to the heap, registers it, and hands out its handle: a token, never an
    /// address, drawn from a counter that never repeats (at one handle a nanosecond it would take
    /// centuries to wrap). A freed handle therefore stays refused forever: it can never come to
    /// name a newer handle that happens to reuse its memory, so a stale handle or a double free
    /// is always `InvalidArgument`, never a call on (or the free of) someone else's handle.
    fn into_raw(inner: Self::Inner) -> *mut Self {
        let token = NEXT_HANDLE.fetch_add(HANDLE_STEP, Ordering::Relaxed);
        registry().insert(token, Arc::new(Self::wrap(inner)));
        std::ptr::without_provenance_mut(token)
    }

    /// Locks the handle behind `ptr`, which is looked up in the registry and never
    /// dereferenced. NULL is `NullPointer`; a handle of another kind, a freed one or any other
    /// pointer is `InvalidArgument`; a handle poisoned by an earlier internal failure is
    /// `Internal`. The value stays alive while the guard does, even if the handle is freed
    /// meanwhile (the free takes effect when the guard drops).
    fn lock(ptr: *const Self) -> FfiResult<Locked<Self>> {
        if ptr.is_null() {
            return Err(null(Self::NAME));
        }
        let found = registry().get(&(ptr as usize)).cloned();
        let owner = match found.map(|any| any.downcast::<Self>()) {
            Some(Ok(owner)) => owner,
            Some(Err(_)) => {
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
        };
        Locked::new(owner)
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

    /// Releases a handle: unregisters it and drops the registry's reference, so its secrets are
    /// zeroized as the value drops, now or, if a call on another thread holds it, when that call
    /// returns. NULL, a handle of another kind, an already freed handle or any other pointer is
    /// ignored.
    fn free(ptr: *mut Self) {
        if ptr.is_null() {
            return;
        }
        let owner = {
            let mut reg = registry();
            match reg.get(&(ptr as usize)) {
                Some(any) if any.is::<Self>() => reg.remove(&(ptr as usize)),
                _ => None,
            }
        };
        // Dropped outside the registry's mutex: an agent's drop closes its store.
        drop(owner);
    }
}

/// A locked handle: derefs to its value, which it keeps alive (its own reference) until it
/// drops, whatever `free` does meanwhile.
pub struct Locked<H: Handle> {
    // Declared before `_owner`, so dropped (unlocked) before it: it borrows from the allocation
    // `_owner` keeps alive.
    guard: MutexGuard<'static, H::Inner>,
    _owner: Arc<H>,
}

impl<H: Handle> Locked<H> {
    fn new(owner: Arc<H>) -> FfiResult<Self> {
        // SAFETY: the mutex lives in `owner`'s heap allocation, which does not move and which
        // `owner` keeps alive for as long as the guard exists: both are private fields of the
        // returned value, the guard is dropped first, and no method hands the guard itself out
        // (only borrows of the value, tied to the `Locked`).
        let mutex: &'static Mutex<H::Inner> = unsafe { &*(owner.mutex() as *const Mutex<H::Inner>) };
        let guard = mutex.lock().map_err(|_| {
            FfiError::new(Error::Internal, format!("{} poisoned by an earlier failure", H::NAME))
        })?;
        Ok(Locked { guard, _owner: owner })
    }
}

impl<H: Handle> Deref for Locked<H> {
    type Target = H::Inner;
    fn deref(&self) -> &H::Inner {
        &self.guard
    }
}

impl<H: Handle> DerefMut for Locked<H> {
    fn deref_mut(&mut self) -> &mut H::Inner {
        &mut self.guard
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

    /// A handle type for the lifetime tests: its value records when it is dropped.
    struct Probe {
        inner: Mutex<ProbeValue>,
    }

    struct ProbeValue {
        secret: [u8; 32],
        dropped: std::sync::Arc<std::sync::atomic::AtomicBool>,
    }

    impl Drop for ProbeValue {
        fn drop(&mut self) {
            self.secret = [0; 32];
            self.dropped.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Handle for Probe {
        type Inner = ProbeValue;
        const NAME: &'static str = "probe_t";
        fn wrap(inner: ProbeValue) -> Self {
            Probe { inner: Mutex::new(inner) }
        }
        fn mutex(&self) -> &Mutex<ProbeValue> {
            &self.inner
        }
    }

    fn probe() -> (*mut Probe, std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        (Probe::into_raw(ProbeValue { secret: [7; 32], dropped: dropped.clone() }), dropped)
    }

    #[test]
    fn a_freed_handle_never_names_a_newer_one_and_a_double_free_frees_nothing_else() {
        use std::sync::atomic::Ordering::SeqCst;
        let (old, _) = probe();
        Probe::free(old);
        // The allocator would hand the same memory to the next value; its handle still differs.
        let (new, new_dropped) = probe();
        assert_ne!(old, new);
        assert_eq!(Probe::lock(old).err().unwrap().error, Error::InvalidArgument);
        Probe::free(old); // a stale second free
        assert!(!new_dropped.load(SeqCst), "a stale free released a newer handle");
        assert_eq!(Probe::lock(new).unwrap().secret, [7; 32]);
        Probe::free(new);
        assert!(new_dropped.load(SeqCst));
    }

    #[test]
    fn a_handle_freed_during_a_call_lives_until_the_call_ends_and_is_refused_after() {
        use std::sync::atomic::Ordering::SeqCst;
        let (ptr, dropped) = probe();
        let mut locked = Probe::lock(ptr).unwrap();
        // Another thread frees the handle while this call holds it.
        let addr = ptr as usize;
        std::thread::scope(|s| {
            s.spawn(move || Probe::free(addr as *mut Probe));
        });
        // The call completes on a live value; nobody else can reach it any more.
        assert!(!dropped.load(SeqCst), "the value was dropped under a call in progress");
        assert_eq!(locked.secret, [7; 32]);
        locked.secret[0] = 8;
        let err = Probe::lock(ptr).err().unwrap();
        assert_eq!(err.error, Error::InvalidArgument);
        assert!(err.detail.unwrap().contains("not a live probe_t"));
        drop(locked);
        // The last reference is gone: the value dropped (and zeroized) exactly then.
        assert!(dropped.load(SeqCst));
        Probe::free(ptr); // a second free is ignored
        assert_eq!(Probe::lock(ptr).err().unwrap().error, Error::InvalidArgument);
    }

    #[test]
    fn calls_racing_a_free_complete_or_are_refused() {
        use super::identity::{DmpIdentity, dmp_identity_free, dmp_identity_generate, dmp_identity_sign};
        for _ in 0..20 {
            let mut id: *mut DmpIdentity = std::ptr::null_mut();
            // SAFETY: a valid out-pointer.
            assert_eq!(unsafe { dmp_identity_generate(&mut id) }, 0);
            let addr = id as usize;
            let outcomes: Vec<(usize, usize)> = std::thread::scope(|s| {
                let workers: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(move || {
                            let (mut ok, mut refused) = (0usize, 0usize);
                            loop {
                                let mut sig = [0u8; 64];
                                // SAFETY: valid message and output; the handle may be freed
                                // meanwhile, which is what this test is about.
                                let rc = unsafe {
                                    dmp_identity_sign(
                                        addr as *const DmpIdentity,
                                        b"m".as_ptr(),
                                        1,
                                        sig.as_mut_ptr(),
                                    )
                                };
                                match rc {
                                    0 => ok += 1,
                                    rc if rc == Error::InvalidArgument.code() => refused += 1,
                                    rc => panic!("unexpected status {rc}"),
                                }
                                if refused > 0 {
                                    return (ok, refused);
                                }
                            }
                        })
                    })
                    .collect();
                std::thread::sleep(std::time::Duration::from_millis(2));
                // The handle is live; the workers' later calls are refused.
                dmp_identity_free(addr as *mut DmpIdentity);
                workers.into_iter().map(|w| w.join().unwrap()).collect()
            });
            assert!(outcomes.iter().all(|&(_, refused)| refused == 1));
        }
    }

    #[test]
    fn an_output_sharing_a_byte_with_an_input_or_another_output_is_refused() {
        let buf = [0u8; 64];
        let p = buf.as_ptr();
        let at = |i: usize| p.wrapping_add(i);
        // One shared byte, either way round, and containment.
        for (inp, out) in [((0, 10), (9, 5)), ((9, 5), (0, 10)), ((0, 64), (20, 1)), ((20, 1), (0, 64))] {
            let err =
                disjoint(&[bytes("pt", at(inp.0), inp.1)], &[bytes("out", at(out.0), out.1)]).unwrap_err();
            assert_eq!(err.error, Error::InvalidArgument);
            assert_eq!(err.detail.as_deref(), Some("`out` overlaps `pt` (buffers must not overlap)"));
        }
        // Two outputs, scalar ones included.
        let len_in_buf = at(8) as *const usize;
        let err = disjoint(&[], &[bytes("out", at(0), 16), scalar("out_len", len_in_buf)]).unwrap_err();
        assert_eq!(err.detail.as_deref(), Some("`out` overlaps `out_len` (buffers must not overlap)"));
        // Adjacent ranges, empty ranges, NULL and refused lengths cover nothing; inputs may overlap.
        disjoint(&[bytes("pt", at(0), 10)], &[bytes("out", at(10), 10)]).unwrap();
        disjoint(&[bytes("pt", at(10), 10)], &[bytes("out", at(0), 10)]).unwrap();
        disjoint(&[bytes("pt", at(0), 10)], &[bytes("out", at(5), 0)]).unwrap();
        disjoint(&[bytes("pt", std::ptr::null(), 10)], &[bytes("out", std::ptr::null(), 10)]).unwrap();
        disjoint(&[bytes("pt", at(0), usize::MAX)], &[bytes("out", at(5), 1)]).unwrap();
        disjoint(&[bytes("ad", at(0), 10), bytes("pt", at(0), 10)], &[bytes("out", at(10), 4)]).unwrap();
    }

    #[test]
    fn overlap_is_refused_before_anything_is_written() {
        use super::raw::{dmp_aead_seal, dmp_ed25519_keypair};
        let key = [1u8; 32];
        let mut buf = [0x55u8; 128];
        let mut len = 7usize;
        let p = buf.as_mut_ptr();
        // SAFETY: every pointer is valid for its length; the ranges overlap on purpose.
        let rc = unsafe { dmp_aead_seal(key.as_ptr(), std::ptr::null(), 0, p, 16, p.add(8), 120, &mut len) };
        assert_eq!(rc, Error::InvalidArgument.code());
        assert_eq!((len, buf), (7, [0x55; 128]));
        // `out_len` inside `out`: refused before the size is recorded.
        // SAFETY: as above; `out_len` is aligned inside `buf` (align_offset).
        let rc = unsafe {
            let off = p.align_offset(std::mem::align_of::<usize>());
            dmp_aead_seal(key.as_ptr(), std::ptr::null(), 0, p, 0, p, 16, p.add(off) as *mut usize)
        };
        assert_eq!(rc, Error::InvalidArgument.code());
        assert_eq!(buf, [0x55; 128]);
        // SAFETY: two 32-byte outputs sharing 16 bytes.
        let rc = unsafe { dmp_ed25519_keypair(p, p.add(16)) };
        assert_eq!(rc, Error::InvalidArgument.code());
        assert_eq!(buf, [0x55; 128]);
        // SAFETY: the same outputs side by side.
        assert_eq!(unsafe { dmp_ed25519_keypair(p, p.add(32)) }, 0);
    }

    #[test]
    fn raw_signatures_refuse_the_reserved_prefix() {
        use super::raw::{dmp_ed25519_public, dmp_ed25519_sign};
        let seed = [9u8; 32];
        let mut public = [0u8; 32];
        let bundle_message = [&b"DMP1 prekey bundle"[..], &[0u8; 100]].concat();
        // SAFETY: every pointer is valid for its length.
        unsafe {
            assert_eq!(dmp_ed25519_public(seed.as_ptr(), public.as_mut_ptr()), 0);
            for msg in [&bundle_message[..], b"DMP", b"DMP2 anything"] {
                let mut sig = [0xABu8; 64];
                let rc = dmp_ed25519_sign(seed.as_ptr(), msg.as_ptr(), msg.len(), sig.as_mut_ptr());
                assert_eq!(rc, Error::InvalidArgument.code());
                assert_eq!(sig, [0xAB; 64]);
                let detail = std::ffi::CStr::from_ptr(last_error_ptr()).to_str().unwrap();
                assert!(detail.contains("reserved for the protocol's own signatures"), "{detail}");
            }
            let mut sig = [0u8; 64];
            for msg in [&b"DM"[..], b"xDMP", b"dmp1", b""] {
                assert_eq!(dmp_ed25519_sign(seed.as_ptr(), msg.as_ptr(), msg.len(), sig.as_mut_ptr()), 0);
            }
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

//! The root file of the optional static build of the Janus bridge (build_static.sh, see
//! README.md): the same exports as dmp_bridge.zig, with the library's functions resolved at
//! link time from libdmp.a instead of loaded from libdmp.so at run time.
//!
//! `janus build` never compiles this file: it compiles dmp_bridge.zig itself, whose only way
//! to reach libdmp under a plain `cc` link is run-time loading. This file is for pipelines
//! that can add one object file of their own to the link.

/// Read by dmp_bridge.zig (through @import("root")) to select the static table.
pub const dmp_bridge_link_static = true;

/// The bridge's minimal panic handler (the root file's is the one that counts).
pub const panic = @import("dmp_bridge.zig").panic;

comptime {
    _ = @import("dmp_bridge.zig");
}

/// libdmp.a's only libm reference (see static_libm.zig); build_static.sh makes it local.
export fn log(x: f64) callconv(.c) f64 {
    return @import("static_libm.zig").ln(x);
}

//! Every Zig test of the DMP layer: `zig build test`.
comptime {
    _ = @import("header_test.zig");
    _ = @import("wrapper_test.zig");
    _ = @import("interop_test.zig");
    _ = @import("transport_test.zig");
    _ = @import("conversation_test.zig");
    _ = @import("agent_test.zig");
    _ = @import("host_test.zig");
    _ = @import("node_test.zig");
}

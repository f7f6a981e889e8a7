//! Helpers shared by the tests.

const std = @import("std");
const dmp = @import("dmp");

pub fn randomKey() !dmp.Key {
    var k: dmp.Key = undefined;
    try dmp.randomBytes(&k);
    return k;
}

/// Two identities and a pair of ACTIVE sessions between them (the first message and one reply
/// exchanged). `deinit` releases everything.
pub const Pair = struct {
    alice: dmp.Identity,
    bob: dmp.Identity,
    a: dmp.Session,
    b: dmp.Session,

    pub fn init() !Pair {
        return initWith(.hybrid, true);
    }

    pub fn initWith(suite: dmp.Suite, with_one_time_prekey: bool) !Pair {
        var alice = try dmp.Identity.generateWith(suite);
        errdefer alice.deinit();
        var bob = try dmp.Identity.generateWith(suite);
        errdefer bob.deinit();
        var bundle_buf: [dmp.bundle_max_len]u8 = undefined;
        const bundle = try bob.bundle(with_one_time_prekey, &bundle_buf);
        var a = try dmp.Session.initiateWith(&alice, bundle, .allow_classical);
        errdefer a.deinit();

        var env_buf: [4096]u8 = undefined;
        const first = try a.encrypt("hello bob", &env_buf);
        var pt_buf: [64]u8 = undefined;
        const accepted = try dmp.Session.acceptWith(&bob, first, .allow_classical, &pt_buf);
        var b = accepted.session;
        errdefer b.deinit();
        try std.testing.expectEqualStrings("hello bob", accepted.plaintext);

        const reply = try b.encrypt("hello alice", &env_buf);
        try std.testing.expectEqualStrings("hello alice", try a.decrypt(reply, &pt_buf));
        return .{ .alice = alice, .bob = bob, .a = a, .b = b };
    }

    pub fn deinit(self: *Pair) void {
        self.a.deinit();
        self.b.deinit();
        self.alice.deinit();
        self.bob.deinit();
    }
};

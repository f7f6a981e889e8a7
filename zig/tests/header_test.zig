//! Checks the hand-written declarations of src/c.zig, and the wrapper's tables, against
//! include/dmp.h itself (embedded at build time): every function with its exact C signature,
//! every integer #define, every status code, every size function.
//! A header that gains a function, constant or status code fails here until it is wrapped.

const std = @import("std");
const dmp = @import("dmp");
const c = dmp.c;
const header_text = @embedFile("dmp.h");

const Header = struct {
    /// name -> normalized prototype, e.g. "int32_t dmp_x25519(const uint8_t*,const uint8_t*,uint8_t*)"
    functions: std.StringHashMapUnmanaged([]const u8) = .empty,
    /// #define DMP_X <integer>
    defines: std.StringHashMapUnmanaged(i64) = .empty,
    /// How many prototypes were declared more than once (identically).
    repeated: usize = 0,
};

fn stripComments(arena: std.mem.Allocator, text: []const u8) ![]u8 {
    var out: std.ArrayList(u8) = .empty;
    var i: usize = 0;
    while (i < text.len) {
        if (std.mem.startsWith(u8, text[i..], "/*")) {
            const end = std.mem.find(u8, text[i + 2 ..], "*/") orelse return error.UnterminatedComment;
            i += 2 + end + 2;
            try out.append(arena, ' ');
        } else if (std.mem.startsWith(u8, text[i..], "//")) {
            while (i < text.len and text[i] != '\n') i += 1;
        } else {
            try out.append(arena, text[i]);
            i += 1;
        }
    }
    return out.items;
}

fn isIdentChar(ch: u8) bool {
    return std.ascii.isAlphanumeric(ch) or ch == '_';
}

/// Tokens of a C declarator: identifiers and '*'.
fn tokens(arena: std.mem.Allocator, text: []const u8) ![]const []const u8 {
    var list: std.ArrayList([]const u8) = .empty;
    var i: usize = 0;
    while (i < text.len) {
        const ch = text[i];
        if (ch == '*') {
            try list.append(arena, "*");
            i += 1;
        } else if (isIdentChar(ch)) {
            const start = i;
            while (i < text.len and isIdentChar(text[i])) i += 1;
            try list.append(arena, text[start..i]);
        } else if (std.ascii.isWhitespace(ch)) {
            i += 1;
        } else {
            return error.UnexpectedCharacter;
        }
    }
    return list.items;
}

/// "const", "uint8_t", "*" -> "const uint8_t*"
fn joinType(arena: std.mem.Allocator, toks: []const []const u8) ![]const u8 {
    var out: std.ArrayList(u8) = .empty;
    for (toks) |t| {
        if (std.mem.eql(u8, t, "*")) {
            try out.append(arena, '*');
        } else {
            if (out.items.len > 0) try out.append(arena, ' ');
            try out.appendSlice(arena, t);
        }
    }
    return out.items;
}

fn parseHeader(arena: std.mem.Allocator) !Header {
    var h: Header = .{};
    const text = try stripComments(arena, header_text);

    // Preprocessor lines: integer #defines; everything else of them is dropped.
    var body: std.ArrayList(u8) = .empty;
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |raw| {
        const line = std.mem.trim(u8, raw, " \t\r");
        if (line.len > 0 and line[0] == '#') {
            var it = std.mem.tokenizeAny(u8, line[1..], " \t");
            const directive = it.next() orelse continue;
            if (!std.mem.eql(u8, directive, "define")) continue;
            const name = it.next() orelse continue;
            const value = it.next() orelse continue;
            if (!std.mem.startsWith(u8, name, "DMP_")) continue;
            const v = std.fmt.parseInt(i64, value, 10) catch continue;
            try h.defines.put(arena, name, v);
            continue;
        }
        try body.appendSlice(arena, line);
        try body.append(arena, '\n');
    }

    var statements = std.mem.splitScalar(u8, body.items, ';');
    while (statements.next()) |raw| {
        var stmt = std.mem.trim(u8, raw, " \t\r\n");
        // Remove what is not part of a declaration.
        while (true) {
            if (std.mem.find(u8, stmt, "extern \"C\" {")) |i| {
                stmt = std.mem.trim(u8, stmt[i + "extern \"C\" {".len ..], " \t\r\n");
            } else if (std.mem.startsWith(u8, stmt, "}")) {
                stmt = std.mem.trim(u8, stmt[1..], " \t\r\n");
            } else if (std.mem.startsWith(u8, stmt, "DMP_WARN_UNUSED_RESULT")) {
                stmt = std.mem.trim(u8, stmt["DMP_WARN_UNUSED_RESULT".len..], " \t\r\n");
            } else break;
        }
        if (stmt.len == 0 or std.mem.startsWith(u8, stmt, "typedef")) continue;
        const open = std.mem.findScalar(u8, stmt, '(') orelse return error.UnparsedStatement;
        const close = std.mem.findScalarLast(u8, stmt, ')') orelse return error.UnparsedStatement;
        const head = try tokens(arena, stmt[0..open]);
        if (head.len < 2) return error.UnparsedStatement;
        const name = head[head.len - 1];
        const ret = try joinType(arena, head[0 .. head.len - 1]);

        var sig: std.ArrayList(u8) = .empty;
        try sig.appendSlice(arena, ret);
        try sig.append(arena, ' ');
        try sig.appendSlice(arena, name);
        try sig.append(arena, '(');
        const params_text = std.mem.trim(u8, stmt[open + 1 .. close], " \t\r\n");
        if (!std.mem.eql(u8, params_text, "void") and params_text.len > 0) {
            var params = std.mem.splitScalar(u8, params_text, ',');
            var first = true;
            while (params.next()) |p| {
                const toks = try tokens(arena, p);
                if (toks.len < 2) return error.UnnamedParameter;
                if (!first) try sig.append(arena, ',');
                first = false;
                try sig.appendSlice(arena, try joinType(arena, toks[0 .. toks.len - 1])); // drop the name
            }
        }
        try sig.append(arena, ')');

        if (h.functions.get(name)) |previous| {
            if (!std.mem.eql(u8, previous, sig.items)) {
                std.debug.print("conflicting declarations of {s} in dmp.h:\n  {s}\n  {s}\n", .{ name, previous, sig.items });
                return error.ConflictingDeclarations;
            }
            h.repeated += 1;
        } else {
            try h.functions.put(arena, name, sig.items);
        }
    }
    return h;
}

/// The C spelling of a Zig type of src/c.zig.
fn cName(comptime T: type) []const u8 {
    return switch (@typeInfo(T)) {
        .void => "void",
        .int => switch (T) {
            usize => "size_t",
            u8 => "uint8_t",
            i32 => "int32_t",
            u32 => "uint32_t",
            u64 => "uint64_t",
            else => @compileError("no C name for " ++ @typeName(T)),
        },
        .optional => |o| cName(o.child),
        .@"opaque" => blk: {
            const full = @typeName(T);
            const dot = std.mem.findScalarLast(u8, full, '.') orelse break :blk full;
            break :blk full[dot + 1 ..];
        },
        .pointer => |p| blk: {
            if (p.child == u8 and p.size == .many and p.sentinel() == 0 and p.attrs.@"const") break :blk "const char*";
            break :blk (if (p.attrs.@"const") "const " else "") ++ cName(p.child) ++ "*";
        },
        else => @compileError("no C name for " ++ @typeName(T)),
    };
}

fn zigPrototype(comptime name: []const u8) []const u8 {
    const F = @typeInfo(@TypeOf(@field(c, name))).@"fn";
    comptime var s: []const u8 = cName(F.return_type.?) ++ " " ++ name ++ "(";
    inline for (F.param_types, 0..) |p, i| {
        s = s ++ (if (i > 0) "," else "") ++ cName(p.?);
    }
    return s ++ ")";
}

fn isFunction(comptime name: []const u8) bool {
    return @typeInfo(@TypeOf(@field(c, name))) == .@"fn";
}

const c_decls = @typeInfo(c).@"struct".decl_names;

const Proto = struct { name: []const u8, sig: []const u8 };
const Constant = struct { name: []const u8, value: i64 };

/// The functions of c.zig with their C prototypes, computed at compile time.
const c_functions: []const Proto = blk: {
    @setEvalBranchQuota(200_000);
    var list: []const Proto = &.{};
    for (c_decls) |name| {
        if (isFunction(name)) list = list ++ [_]Proto{.{ .name = name, .sig = zigPrototype(name) }};
    }
    break :blk list;
};

/// The DMP_* constants of c.zig.
const c_constants: []const Constant = blk: {
    @setEvalBranchQuota(200_000);
    var list: []const Constant = &.{};
    for (c_decls) |name| {
        if (std.mem.startsWith(u8, name, "DMP_")) list = list ++ [_]Constant{.{ .name = name, .value = @field(c, name) }};
    }
    break :blk list;
};

test "header: every function of dmp.h is declared in c.zig with the same C signature" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    const h = try parseHeader(arena_state.allocator());

    try std.testing.expect(h.functions.count() >= 99);
    for (c_functions) |f| {
        const theirs = h.functions.get(f.name) orelse {
            std.debug.print("c.zig declares {s}, which dmp.h does not have\n", .{f.name});
            return error.NotInHeader;
        };
        if (!std.mem.eql(u8, f.sig, theirs)) {
            std.debug.print("signature differs:\n  c.zig: {s}\n  dmp.h: {s}\n", .{ f.sig, theirs });
            return error.SignatureMismatch;
        }
    }
    var missing: usize = 0;
    var it = h.functions.iterator();
    while (it.next()) |e| {
        const found = for (c_functions) |f| {
            if (std.mem.eql(u8, f.name, e.key_ptr.*)) break true;
        } else false;
        if (!found) {
            std.debug.print("dmp.h has {s}, not declared in c.zig: {s}\n", .{ e.key_ptr.*, e.value_ptr.* });
            missing += 1;
        }
    }
    try std.testing.expectEqual(@as(usize, 0), missing);
    try std.testing.expectEqual(h.functions.count(), c_functions.len);
}

test "header: every integer #define of dmp.h is a constant of c.zig with the same value" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    const h = try parseHeader(arena_state.allocator());

    for (c_constants) |k| {
        const v = h.defines.get(k.name) orelse {
            std.debug.print("c.zig has {s}, dmp.h does not\n", .{k.name});
            return error.NotInHeader;
        };
        try std.testing.expectEqual(v, k.value);
    }
    var it = h.defines.iterator();
    while (it.next()) |e| {
        const found = for (c_constants) |k| {
            if (std.mem.eql(u8, k.name, e.key_ptr.*)) break true;
        } else false;
        if (!found) std.debug.print("dmp.h defines {s} = {d}, c.zig does not\n", .{ e.key_ptr.*, e.value_ptr.* });
        try std.testing.expect(found);
    }
    try std.testing.expectEqual(h.defines.count(), c_constants.len);
}

/// "AUTH_FAILED" -> "AuthFailed"
fn pascal(buf: []u8, snake: []const u8) []const u8 {
    var n: usize = 0;
    var upper = true;
    for (snake) |ch| {
        if (ch == '_') {
            upper = true;
            continue;
        }
        buf[n] = if (upper) ch else std.ascii.toLower(ch);
        upper = false;
        n += 1;
    }
    return buf[0..n];
}

test "header: every DMP_ERR_* code maps one-to-one to the error of the same name" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    const h = try parseHeader(arena_state.allocator());

    var codes: usize = 0;
    var it = h.defines.iterator();
    while (it.next()) |e| {
        const name = e.key_ptr.*;
        if (!std.mem.startsWith(u8, name, "DMP_ERR_")) continue;
        codes += 1;
        const code: i32 = @intCast(e.value_ptr.*);
        const err = dmp.errorFromStatus(code);
        var buf: [64]u8 = undefined;
        try std.testing.expectEqualStrings(pascal(&buf, name["DMP_ERR_".len..]), @errorName(err));
        try std.testing.expectEqual(@as(?i32, code), dmp.statusFromError(err));
        try std.testing.expectError(err, dmp.check(code));
        // The library knows the code too.
        try std.testing.expect(dmp.strerror(code).len > 0);
    }
    try std.testing.expectEqual(dmp.status_codes.len, codes);
    // The error set is exactly the codes plus UnknownStatus.
    try std.testing.expectEqual(codes + 1, @typeInfo(dmp.Error).error_set.error_names.?.len);
    // Codes are distinct, errors are distinct.
    for (dmp.status_codes, 0..) |a, i| for (dmp.status_codes[i + 1 ..]) |b| {
        try std.testing.expect(a.code != b.code);
        try std.testing.expect(a.err != b.err);
    };
    try dmp.check(c.DMP_OK);
    try std.testing.expectError(error.UnknownStatus, dmp.check(-9999));
    try std.testing.expectError(error.UnknownStatus, dmp.check(7));
    try std.testing.expectEqual(@as(?i32, null), dmp.statusFromError(error.UnknownStatus));
}

test "header: every size function of dmp.h is a field of dmp.Sizes and equals its #define" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    const h = try parseHeader(arena_state.allocator());

    // Size functions: no parameter, returning size_t or uint32_t (dmp_abi_version aside).
    var it = h.functions.iterator();
    var size_functions: usize = 0;
    while (it.next()) |e| {
        const name = e.key_ptr.*;
        const sig = e.value_ptr.*;
        if (!std.mem.endsWith(u8, sig, "()")) continue;
        if (!(std.mem.startsWith(u8, sig, "size_t ") or std.mem.startsWith(u8, sig, "uint32_t "))) continue;
        if (std.mem.eql(u8, name, "dmp_abi_version")) continue;
        size_functions += 1;
        var found = false;
        inline for (@typeInfo(dmp.Sizes).@"struct".field_names) |fname| {
            if (std.mem.eql(u8, "dmp_" ++ fname, name)) found = true;
        }
        if (!found) std.debug.print("{s} is not a field of dmp.Sizes\n", .{name});
        try std.testing.expect(found);
    }
    try std.testing.expectEqual(@typeInfo(dmp.Sizes).@"struct".field_names.len, size_functions);

    const s = dmp.sizes();
    inline for (@typeInfo(dmp.Sizes).@"struct".field_names) |fname| {
        var buf: [64]u8 = undefined;
        const upper = std.ascii.upperString(&buf, fname);
        var name_buf: [80]u8 = undefined;
        const define = try std.fmt.bufPrint(&name_buf, "DMP_{s}", .{upper});
        const want = h.defines.get(define) orelse {
            std.debug.print("no #define {s}\n", .{define});
            return error.NotInHeader;
        };
        try std.testing.expectEqual(want, @as(i64, @intCast(@field(s, fname))));
    }
}

test "header: version and ABI" {
    try dmp.checkAbi();
    try std.testing.expectEqual(@as(u32, dmp.abi_version), c.dmp_abi_version());
    try std.testing.expect(dmp.version().len > 0);
    try std.testing.expect(std.mem.findScalar(u8, dmp.version(), '.') != null);
}

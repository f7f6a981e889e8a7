//! Builds the Zig layer (L0) of DMP on top of the Rust core.
//!
//!   zig build          builds the Rust static library (cargo), compiles the module and tests,
//!                      and installs zig-out/bin/dmp-node
//!   zig build node     builds and installs dmp-node only
//!   zig build test     runs every Zig test (header check, wrapper, interop, transport,
//!                      conversation, agent, host, node) and checks `zig fmt`
//!
//! The toolchain is pinned: `pip install ziglang==0.17.1`, then `python3 -m ziglang build ...`.
//! Set ZIG_GLOBAL_CACHE_DIR to a stable folder (test.sh uses $HOME/.cache/dmp-zig).
//!
//! Other projects depend on this directory as a path dependency and import the module `dmp`:
//! linking `libdmp.a`, libc and libunwind comes with the module (see README.md).

const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    // 1. The Rust core, built by cargo in the repository root (the parent of this directory).
    //    Always run: cargo itself knows when nothing changed (and serializes concurrent builds
    //    with its own lock).
    //    `-Dcargo=false` links the library already in ../target/release without running cargo.
    const run_cargo = b.option(bool, "cargo", "Run `cargo build --release --lib` in the repository root first (default: true)") orelse true;
    const cargo = b.addSystemCommand(&.{ "cargo", "build", "--release", "--lib" });
    cargo.setCwd(b.path(".."));
    cargo.has_side_effects = true;
    cargo.setName("cargo build --release --lib");

    // 2. Stage libdmp.a through a WriteFile step. The staged path is a generated file whose
    //    producer depends on the cargo step, so every compile step that links the module, in
    //    this package or in a package that depends on it, waits for cargo first.
    const stage = b.addWriteFiles();
    if (run_cargo) stage.step.dependOn(&cargo.step);
    const libdmp = stage.addCopyFile(b.path("../target/release/libdmp.a"), "libdmp.a");

    // 3. The public module: `@import("dmp")` in a dependent project.
    const dmp = b.addModule("dmp", .{
        .root_source_file = b.path("src/dmp.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    dmp.addObjectFile(libdmp);
    // Rust's panic=unwind runtime needs _Unwind_*: Zig provides libunwind.
    dmp.linkSystemLibrary("unwind", .{});

    // `dmp-node`: one agent on loopback TCP, driven by stdin (src/node.zig). Installed by
    // `zig build` (zig-out/bin/dmp-node); `zig build node` builds and installs it alone.
    const node_exe = b.addExecutable(.{
        .name = "dmp-node",
        .root_module = b.createModule(.{
            .root_source_file = b.path("src/node.zig"),
            .target = target,
            .optimize = optimize,
            .link_libc = true,
            .imports = &.{.{ .name = "dmp", .module = dmp }},
        }),
    });
    const install_node = b.addInstallArtifact(node_exe, .{});
    b.getInstallStep().dependOn(&install_node.step);
    const node_step = b.step("node", "Build and install the dmp-node executable (zig-out/bin/dmp-node)");
    node_step.dependOn(&install_node.step);

    // `zig build test`: one test binary with every test file; the header is embedded so that a
    // test can check the hand-written declarations (src/c.zig) against it; the node tests run
    // the dmp-node executable built above (its path comes in through `build_options`).
    const test_options = b.addOptions();
    test_options.addOptionPath("node_exe", node_exe.getEmittedBin());
    const test_mod = b.createModule(.{
        .root_source_file = b.path("tests/all.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .imports = &.{.{ .name = "dmp", .module = dmp }},
    });
    test_mod.addAnonymousImport("dmp.h", .{ .root_source_file = b.path("../include/dmp.h") });
    test_mod.addOptions("build_options", test_options);
    const tests = b.addTest(.{ .name = "dmp-zig-tests", .root_module = test_mod });
    // `zig build` builds the Rust core and compiles (without running) the tests, which use every
    // declaration of the module.
    b.getInstallStep().dependOn(&tests.step);
    const run_tests = b.addRunArtifact(tests);
    // Run every time (not only when something changed): the tests talk to the linked library
    // and the network, and test.sh counts what ran.
    run_tests.has_side_effects = true;
    const test_step = b.step("test", "Run the Zig tests of the DMP wrapper and transport");
    test_step.dependOn(&run_tests.step);
    // The sources are kept `zig fmt`-clean: the test step checks it.
    const fmt = b.addFmt(.{ .paths = b.pathList(&.{ "src", "tests", "build.zig", "build.zig.zon" }), .check = true });
    test_step.dependOn(&fmt.step);
}

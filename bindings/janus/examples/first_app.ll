; first_app.ll: examples/first_app.jan lowered by hand to the LLVM IR that Janus's emitter
; produces for it, so that the program can be linked and run here, where the Janus compiler
; cannot be built. The bridge functions are declared as Janus declares a `use zig` function
; (its reader maps i32/u32 -> i32, i64/u64/usize -> i64, pointers -> ptr); test_bridge.zig
; checks every `declare @dmpj_*` line below against dmp_bridge.zig read the Janus way.
; Janus's print/println/print_int come from its runtime (janus_rt.zig: printf-based); here
; they are libc's printf and puts, since janus_rt.o is not built here either.
;
; test.sh builds it as `janus build` would:
;   llc -filetype=obj first_app.ll            (with -opaque-pointers and PIC on LLVM 14)
;   zig build-obj ../dmp_bridge.zig -O ReleaseSafe -fno-stack-check -lc
;   cc first_app.o dmp_bridge.o -o first_app  (no -l, no -L)

declare ptr @dmpj_buf_new(i64)
declare void @dmpj_buf_free(ptr)
declare i64 @dmpj_buf_i64(ptr, i64)
declare i32 @dmpj_buf_i32(ptr, i64)
declare ptr @dmpj_buf_ptr(ptr, i64)
declare i32 @dmpj_last_error_message(ptr, i64, ptr)
declare i32 @dmpj_println(ptr, i64)
declare i32 @dmpj_version(ptr, i64, ptr)
declare i32 @dmpj_identity_generate(ptr)
declare i32 @dmpj_identity_fingerprint(ptr, ptr, i64, ptr)
declare i32 @dmpj_identity_bundle(ptr, i32, ptr, i64, ptr)
declare i32 @dmpj_session_initiate(ptr, ptr, i64, ptr)
declare i32 @dmpj_session_state(ptr, ptr)
declare i32 @dmpj_session_encrypt(ptr, ptr, i64, ptr, i64, ptr)
declare i64 @dmpj_cstr_len(ptr)
declare i32 @dmpj_session_accept(ptr, ptr, i64, ptr, ptr, i64, ptr)
declare i32 @dmpj_session_id(ptr, ptr)
declare i32 @dmpj_mem_eq(ptr, ptr, i64)
declare i32 @dmpj_session_decrypt(ptr, ptr, i64, ptr, i64, ptr)
declare i32 @dmpj_session_close(ptr)
declare void @dmpj_session_free(ptr)
declare void @dmpj_identity_free(ptr)
declare i32 @printf(ptr, ...)
declare i32 @puts(ptr)

@.str.0 = private unnamed_addr constant [23 x i8] c"DMP first app, libdmp \00"
@.str.1 = private unnamed_addr constant [22 x i8] c"Alice's fingerprint: \00"
@.str.2 = private unnamed_addr constant [22 x i8] c"Bob's fingerprint:   \00"
@.str.3 = private unnamed_addr constant [32 x i8] c"Bob published his prekey bundle\00"
@.str.4 = private unnamed_addr constant [6 x i8] c"Alice\00"
@.str.5 = private unnamed_addr constant [25 x i8] c"hello Bob, this is Alice\00"
@.str.6 = private unnamed_addr constant [15 x i8] c"Bob received: \00"
@.str.7 = private unnamed_addr constant [4 x i8] c"Bob\00"
@.str.8 = private unnamed_addr constant [35 x i8] c"Alice and Bob share one session id\00"
@.str.9 = private unnamed_addr constant [19 x i8] c"hi Alice, Bob here\00"
@.str.10 = private unnamed_addr constant [17 x i8] c"Alice received: \00"
@.str.11 = private unnamed_addr constant [50 x i8] c"a replayed envelope is refused: DMP_ERR_DUPLICATE\00"
@.str.12 = private unnamed_addr constant [14 x i8] c"first app: OK\00"
@.str.13 = private unnamed_addr constant [42 x i8] c"first_app: step %d failed with status %d\0A\00"
@.str.14 = private unnamed_addr constant [8 x i8] c"%s: %s\0A\00"
@.str.15 = private unnamed_addr constant [8 x i8] c"DORMANT\00"
@.str.16 = private unnamed_addr constant [11 x i8] c"INITIATING\00"
@.str.17 = private unnamed_addr constant [7 x i8] c"ACTIVE\00"
@.str.18 = private unnamed_addr constant [7 x i8] c"CLOSED\00"
@.str.19 = private unnamed_addr constant [34 x i8] c"(a state newer than this program)\00"

; func fail(step: i32, status: i32) -> i32
define internal i32 @fail(i32 %step, i32 %status) {
entry:
  call i32 (ptr, ...) @printf(ptr @.str.13, i32 %step, i32 %status)
  %msg = call ptr @dmpj_buf_new(i64 1024)
  %cell = call ptr @dmpj_buf_new(i64 8)
  %rc = call i32 @dmpj_last_error_message(ptr %msg, i64 1023, ptr %cell)
  %got = icmp eq i32 %rc, 0
  br i1 %got, label %show, label %done
show:
  %n = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  call i32 @dmpj_println(ptr %msg, i64 %n)
  br label %done
done:
  call void @dmpj_buf_free(ptr %msg)
  call void @dmpj_buf_free(ptr %cell)
  ret i32 1
}

; func show_state(who: string, session: ptr, cell: ptr) -> i32
define internal i32 @show_state(ptr %who, ptr %session, ptr %cell) {
entry:
  %rc = call i32 @dmpj_session_state(ptr %session, ptr %cell)
  %bad = icmp ne i32 %rc, 0
  br i1 %bad, label %out, label %read
read:
  %state = call i32 @dmpj_buf_i32(ptr %cell, i64 0)
  switch i32 %state, label %s_other [ i32 0, label %s0
                                      i32 1, label %s1
                                      i32 2, label %s2
                                      i32 3, label %s3 ]
s0:
  br label %print
s1:
  br label %print
s2:
  br label %print
s3:
  br label %print
s_other:
  br label %print
print:
  %name = phi ptr [ @.str.15, %s0 ], [ @.str.16, %s1 ], [ @.str.17, %s2 ], [ @.str.18, %s3 ], [ @.str.19, %s_other ]
  call i32 (ptr, ...) @printf(ptr @.str.14, ptr %who, ptr %name)
  ret i32 0
out:
  ret i32 %rc
}

; func main() -> i32
define i32 @main() {
entry:
  %cell = call ptr @dmpj_buf_new(i64 8)
  %text = call ptr @dmpj_buf_new(i64 1024)
  ; The first call loads libdmp.so.
  %t1 = call i32 @dmpj_version(ptr %text, i64 1024, ptr %cell)
  %t2 = icmp ne i32 %t1, 0
  br i1 %t2, label %fail1, label %ok1
fail1:
  %t3 = call i32 @fail(i32 1, i32 %t1)
  ret i32 %t3
ok1:
  call i32 (ptr, ...) @printf(ptr @.str.0)
  %t4 = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  %t5 = call i32 @dmpj_println(ptr %text, i64 %t4)
  ; 1. Two identities.
  %t6 = call i32 @dmpj_identity_generate(ptr %cell)
  %t7 = icmp ne i32 %t6, 0
  br i1 %t7, label %fail2, label %ok2
fail2:
  %t8 = call i32 @fail(i32 2, i32 %t6)
  ret i32 %t8
ok2:
  %alice = call ptr @dmpj_buf_ptr(ptr %cell, i64 0)
  %t9 = call i32 @dmpj_identity_generate(ptr %cell)
  %t10 = icmp ne i32 %t9, 0
  br i1 %t10, label %fail3, label %ok3
fail3:
  %t11 = call i32 @fail(i32 3, i32 %t9)
  ret i32 %t11
ok3:
  %bob = call ptr @dmpj_buf_ptr(ptr %cell, i64 0)
  %t12 = call i32 @dmpj_identity_fingerprint(ptr %alice, ptr %text, i64 1024, ptr %cell)
  %t13 = icmp ne i32 %t12, 0
  br i1 %t13, label %fail4, label %ok4
fail4:
  %t14 = call i32 @fail(i32 4, i32 %t12)
  ret i32 %t14
ok4:
  call i32 (ptr, ...) @printf(ptr @.str.1)
  %t15 = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  %t16 = call i32 @dmpj_println(ptr %text, i64 %t15)
  %t17 = call i32 @dmpj_identity_fingerprint(ptr %bob, ptr %text, i64 1024, ptr %cell)
  %t18 = icmp ne i32 %t17, 0
  br i1 %t18, label %fail5, label %ok5
fail5:
  %t19 = call i32 @fail(i32 5, i32 %t17)
  ret i32 %t19
ok5:
  call i32 (ptr, ...) @printf(ptr @.str.2)
  %t20 = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  %t21 = call i32 @dmpj_println(ptr %text, i64 %t20)
  ; 2. Bob publishes a prekey bundle.
  %bundle = call ptr @dmpj_buf_new(i64 1368)
  %t22 = call i32 @dmpj_identity_bundle(ptr %bob, i32 1, ptr %bundle, i64 1368, ptr %cell)
  %t23 = icmp ne i32 %t22, 0
  br i1 %t23, label %fail6, label %ok6
fail6:
  %t24 = call i32 @fail(i32 6, i32 %t22)
  ret i32 %t24
ok6:
  %bundle_len = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  call i32 @puts(ptr @.str.3)
  ; 3. Alice starts a session: DORMANT.
  %t25 = call i32 @dmpj_session_initiate(ptr %alice, ptr %bundle, i64 %bundle_len, ptr %cell)
  %t26 = icmp ne i32 %t25, 0
  br i1 %t26, label %fail7, label %ok7
fail7:
  %t27 = call i32 @fail(i32 7, i32 %t25)
  ret i32 %t27
ok7:
  %a = call ptr @dmpj_buf_ptr(ptr %cell, i64 0)
  %t28 = call i32 @show_state(ptr @.str.4, ptr %a, ptr %cell)
  %t29 = icmp ne i32 %t28, 0
  br i1 %t29, label %fail8, label %ok8
fail8:
  %t30 = call i32 @fail(i32 8, i32 %t28)
  ret i32 %t30
ok8:
  ; 4. Alice writes at once: INITIATING.
  %env = call ptr @dmpj_buf_new(i64 4096)
  %t31 = call i64 @dmpj_cstr_len(ptr @.str.5)
  %t32 = call i32 @dmpj_session_encrypt(ptr %a, ptr @.str.5, i64 %t31, ptr %env, i64 4096, ptr %cell)
  %t33 = icmp ne i32 %t32, 0
  br i1 %t33, label %fail9, label %ok9
fail9:
  %t34 = call i32 @fail(i32 9, i32 %t32)
  ret i32 %t34
ok9:
  %env_len1 = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  %t35 = call i32 @show_state(ptr @.str.4, ptr %a, ptr %cell)
  %t36 = icmp ne i32 %t35, 0
  br i1 %t36, label %fail10, label %ok10
fail10:
  %t37 = call i32 @fail(i32 10, i32 %t35)
  ret i32 %t37
ok10:
  ; 5. Bob accepts the first message: ACTIVE.
  %pt = call ptr @dmpj_buf_new(i64 4096)
  %bob_cell = call ptr @dmpj_buf_new(i64 8)
  %t38 = call i32 @dmpj_session_accept(ptr %bob, ptr %env, i64 %env_len1, ptr %bob_cell, ptr %pt, i64 4096, ptr %cell)
  %t39 = icmp ne i32 %t38, 0
  br i1 %t39, label %fail11, label %ok11
fail11:
  %t40 = call i32 @fail(i32 11, i32 %t38)
  ret i32 %t40
ok11:
  %b = call ptr @dmpj_buf_ptr(ptr %bob_cell, i64 0)
  call i32 (ptr, ...) @printf(ptr @.str.6)
  %t41 = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  %t42 = call i32 @dmpj_println(ptr %pt, i64 %t41)
  %t43 = call i32 @show_state(ptr @.str.7, ptr %b, ptr %cell)
  %t44 = icmp ne i32 %t43, 0
  br i1 %t44, label %fail12, label %ok12
fail12:
  %t45 = call i32 @fail(i32 12, i32 %t43)
  ret i32 %t45
ok12:
  ; Both ends name the same session.
  %id_a = call ptr @dmpj_buf_new(i64 8)
  %id_b = call ptr @dmpj_buf_new(i64 8)
  %t46 = call i32 @dmpj_session_id(ptr %a, ptr %id_a)
  %t47 = icmp ne i32 %t46, 0
  br i1 %t47, label %fail13, label %ok13
fail13:
  %t48 = call i32 @fail(i32 13, i32 %t46)
  ret i32 %t48
ok13:
  %t49 = call i32 @dmpj_session_id(ptr %b, ptr %id_b)
  %t50 = icmp ne i32 %t49, 0
  br i1 %t50, label %fail14, label %ok14
fail14:
  %t51 = call i32 @fail(i32 14, i32 %t49)
  ret i32 %t51
ok14:
  %t52 = call i32 @dmpj_mem_eq(ptr %id_a, ptr %id_b, i64 8)
  %t53 = icmp ne i32 %t52, 1
  br i1 %t53, label %fail15, label %ok15
fail15:
  %t54 = call i32 @fail(i32 15, i32 -1)
  ret i32 %t54
ok15:
  call i32 @puts(ptr @.str.8)
  ; 6. Bob replies; Alice decrypts: ACTIVE.
  %t55 = call i64 @dmpj_cstr_len(ptr @.str.9)
  %t56 = call i32 @dmpj_session_encrypt(ptr %b, ptr @.str.9, i64 %t55, ptr %env, i64 4096, ptr %cell)
  %t57 = icmp ne i32 %t56, 0
  br i1 %t57, label %fail16, label %ok16
fail16:
  %t58 = call i32 @fail(i32 16, i32 %t56)
  ret i32 %t58
ok16:
  %env_len2 = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  %t59 = call i32 @dmpj_session_decrypt(ptr %a, ptr %env, i64 %env_len2, ptr %pt, i64 4096, ptr %cell)
  %t60 = icmp ne i32 %t59, 0
  br i1 %t60, label %fail17, label %ok17
fail17:
  %t61 = call i32 @fail(i32 17, i32 %t59)
  ret i32 %t61
ok17:
  call i32 (ptr, ...) @printf(ptr @.str.10)
  %t62 = call i64 @dmpj_buf_i64(ptr %cell, i64 0)
  %t63 = call i32 @dmpj_println(ptr %pt, i64 %t62)
  %t64 = call i32 @show_state(ptr @.str.4, ptr %a, ptr %cell)
  %t65 = icmp ne i32 %t64, 0
  br i1 %t65, label %fail18, label %ok18
fail18:
  %t66 = call i32 @fail(i32 18, i32 %t64)
  ret i32 %t66
ok18:
  ; 7. A replay is refused with DMP_ERR_DUPLICATE (-9).
  %t67 = call i32 @dmpj_session_decrypt(ptr %a, ptr %env, i64 %env_len2, ptr %pt, i64 4096, ptr %cell)
  %t68 = icmp ne i32 %t67, -9
  br i1 %t68, label %fail19, label %ok19
fail19:
  %t69 = call i32 @fail(i32 19, i32 %t67)
  ret i32 %t69
ok19:
  call i32 @puts(ptr @.str.11)
  ; 8. Alice closes: CLOSED.
  %t70 = call i32 @dmpj_session_close(ptr %a)
  %t71 = icmp ne i32 %t70, 0
  br i1 %t71, label %fail20, label %ok20
fail20:
  %t72 = call i32 @fail(i32 20, i32 %t70)
  ret i32 %t72
ok20:
  %t73 = call i32 @show_state(ptr @.str.4, ptr %a, ptr %cell)
  %t74 = icmp ne i32 %t73, 0
  br i1 %t74, label %fail21, label %ok21
fail21:
  %t75 = call i32 @fail(i32 21, i32 %t73)
  ret i32 %t75
ok21:
  ; Release everything.
  call void @dmpj_session_free(ptr %a)
  call void @dmpj_session_free(ptr %b)
  call void @dmpj_identity_free(ptr %alice)
  call void @dmpj_identity_free(ptr %bob)
  call void @dmpj_buf_free(ptr %id_a)
  call void @dmpj_buf_free(ptr %id_b)
  call void @dmpj_buf_free(ptr %bob_cell)
  call void @dmpj_buf_free(ptr %pt)
  call void @dmpj_buf_free(ptr %env)
  call void @dmpj_buf_free(ptr %bundle)
  call void @dmpj_buf_free(ptr %text)
  call void @dmpj_buf_free(ptr %cell)
  call i32 @puts(ptr @.str.12)
  ret i32 0
}

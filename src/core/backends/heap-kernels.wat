;; Kernels that run on tfjs' wasm backend's OWN memory (imported), so they read and write tensors where they lie
;; on its heap: no copy in, no copy out. They replace the JS passes of wasm-gradients.ts where those cost most;
;; heap-kernels.ts instantiates this module once per backend and falls back to the JS passes when it cannot
;; (e.g. a shared memory: the multi-threaded wasm build).
;;
;; Built by `npm run build:wasm` (scripts/build-wasm.ts, wabt) into heap-kernels.wasm.ts; heap-kernels.test.ts
;; fails when the committed bytes are not this file's.
;;
;; All pointers are byte offsets into the imported memory (a tensor's data, as typedArrayFromHeap gives it).
(module
  (import "env" "memory" (memory 0))

  ;; MaxPoolGrad for NHWC float32 with the forward's maxima `y`, four channels a step (C a multiple of 4): for each
  ;; pooling window in row-major order (n, oy, ox) and each channel, dy goes to the FIRST input of the window (in
  ;; row-major order) that equals the window's maximum, i.e. the first strictly largest, exactly as the JS pass in
  ;; wasm-gradients.ts does: the same additions in the same order, so the same bits. Lanes that are not the hit add
  ;; +0, which leaves dx unchanged (dx starts at +0 and never becomes -0). `dx` must be zeroed by the caller.
  ;; Returns how many (window, channel group)s had a channel with no input equal to its maximum (a NaN in the
  ;; window): the caller then runs its JS pass instead, whose running maximum decides those.
  ;; Branch-free over the window: an exit once every lane has its hit, or skipping the store of a tap without
  ;; one, made it 2–4× slower (mispredictions; demo stem pool 1.2–2.0 ms as it is, 5 ms with either branch).
  (func (export "maxpool_grad")
      (param $x i32) (param $y i32) (param $g i32) (param $dx i32)
      (param $N i32) (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
      (param $sh i32) (param $sw i32) (param $fh i32) (param $fw i32) (param $top i32) (param $left i32)
      (result i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $c i32)
    (local $y0 i32) (local $y1 i32) (local $x0 i32) (local $x1 i32) (local $yy i32) (local $xx i32)
    (local $xBase i32) (local $q i32) (local $p i32) (local $missing i32)
    (local $m v128) (local $gv v128) (local $found v128) (local $eq v128)
    (block $nend (loop $nl
      (br_if $nend (i32.ge_s (local.get $n) (local.get $N)))
      (local.set $xBase (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $H)) (local.get $W)) (local.get $C)))
      (local.set $oy (i32.const 0))
      (block $oyend (loop $oyl
        (br_if $oyend (i32.ge_s (local.get $oy) (local.get $OH)))
        ;; the window's rows, clipped to the input: [y0, y1)
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $top)))
        (local.set $y1 (i32.add (local.get $y0) (local.get $fh)))
        (if (i32.lt_s (local.get $y0) (i32.const 0)) (then (local.set $y0 (i32.const 0))))
        (if (i32.gt_s (local.get $y1) (local.get $H)) (then (local.set $y1 (local.get $H))))
        (local.set $ox (i32.const 0))
        (block $oxend (loop $oxl
          (br_if $oxend (i32.ge_s (local.get $ox) (local.get $OW)))
          (local.set $x0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $left)))
          (local.set $x1 (i32.add (local.get $x0) (local.get $fw)))
          (if (i32.lt_s (local.get $x0) (i32.const 0)) (then (local.set $x0 (i32.const 0))))
          (if (i32.gt_s (local.get $x1) (local.get $W)) (then (local.set $x1 (local.get $W))))
          ;; element index of (n, oy, ox, 0) in y and dy
          (local.set $q (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $OH)) (local.get $oy)) (local.get $OW)) (local.get $ox)) (local.get $C)))
          (local.set $c (i32.const 0))
          (block $cend (loop $cl
            (br_if $cend (i32.ge_s (local.get $c) (local.get $C)))
            (local.set $m (v128.load (i32.add (local.get $y) (i32.shl (i32.add (local.get $q) (local.get $c)) (i32.const 2)))))
            (local.set $gv (v128.load (i32.add (local.get $g) (i32.shl (i32.add (local.get $q) (local.get $c)) (i32.const 2)))))
            (local.set $found (v128.const i32x4 0 0 0 0))
            (block $done
              (local.set $yy (local.get $y0))
              (loop $yl
                (br_if $done (i32.ge_s (local.get $yy) (local.get $y1)))
                (local.set $xx (local.get $x0))
                (loop $xl
                  (if (i32.lt_s (local.get $xx) (local.get $x1)) (then
                    (local.set $p (i32.shl (i32.add (i32.add (local.get $xBase)
                      (i32.mul (i32.add (i32.mul (local.get $yy) (local.get $W)) (local.get $xx)) (local.get $C))) (local.get $c)) (i32.const 2)))
                    (local.set $eq (v128.andnot (f32x4.eq (v128.load (i32.add (local.get $x) (local.get $p))) (local.get $m)) (local.get $found)))
                    (v128.store (i32.add (local.get $dx) (local.get $p))
                      (f32x4.add (v128.load (i32.add (local.get $dx) (local.get $p))) (v128.and (local.get $gv) (local.get $eq))))
                    (local.set $found (v128.or (local.get $found) (local.get $eq)))
                    (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
                    (br $xl))))
                (local.set $yy (i32.add (local.get $yy) (i32.const 1)))
                (br $yl)))
            (if (i32.eqz (i32x4.all_true (local.get $found)))
              (then (local.set $missing (i32.add (local.get $missing) (i32.const 1)))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cl)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $oxl)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $oyl)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nl)))
    (local.get $missing))

  ;; `count` blocks of `bytes` bytes (a multiple of 4) from src + i·srcStride to dst + i·dstStride: one output row of
  ;; the strided input gradient's phase interleave (wasm-gradients.ts interleavePhases), whose blocks are a pixel's
  ;; channels. 16 bytes a step, then 4. Plain copies: the same bits as the JS loop.
  (func (export "copy_blocks") (param $dst i32) (param $src i32) (param $count i32) (param $bytes i32) (param $dstStride i32) (param $srcStride i32)
    (local $i i32) (local $k i32) (local $v16 i32) (local $d i32) (local $s i32)
    (local.set $v16 (i32.and (local.get $bytes) (i32.const -16)))
    (block $end (loop $l
      (br_if $end (i32.ge_s (local.get $i) (local.get $count)))
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $i) (local.get $dstStride))))
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $srcStride))))
      (local.set $k (i32.const 0))
      (block $vend (loop $vl
        (br_if $vend (i32.ge_s (local.get $k) (local.get $v16)))
        (v128.store (i32.add (local.get $d) (local.get $k)) (v128.load (i32.add (local.get $s) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $vl)))
      (block $wend (loop $wl
        (br_if $wend (i32.ge_s (local.get $k) (local.get $bytes)))
        (i32.store (i32.add (local.get $d) (local.get $k)) (i32.load (i32.add (local.get $s) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $wl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
)

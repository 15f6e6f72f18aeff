;; FundusLens photo kernels: the hot loops of the JS photo stages (area resampling, separable
;; Gaussian blur) as WebAssembly with 128-bit SIMD. Each function computes EXACTLY what its
;; TypeScript twin computes (quality/blur.ts gaussianBlur, preprocess/resample.ts resampleArea): the same f64 products summed in the
;; same order from 0, rounded to f32 once per output, so results are identical to the bit and
;; the gradability thresholds calibrated on the JS path still hold. Two outputs share one
;; f64x2 register; four registers per step give the adds independent chains.
;;
;; Built by `npm run build:wasm` (scripts/build-wasm.ts, wabt) into photo-kernels.wasm.ts;
;; simd.test.ts fails when the committed bytes are not this file's.
;;
;; All pointers are byte offsets into the exported memory; the caller (index.ts) lays out the
;; buffers and grows the memory.
(module
  (memory (export "memory") 1)

  ;; v clamped to [0, n - 1] (n >= 1)
  (func $clamp (param $v i32) (param $n i32) (result i32)
    (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.ge_s (local.get $v) (local.get $n)) (then (return (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $v))

  ;; k[t] as f64
  (func $tap (param $k i32) (param $t i32) (result f64)
    (f64.promote_f32 (f32.load (i32.add (local.get $k) (i32.shl (local.get $t) (i32.const 2))))))

  ;; Horizontal pass of a separable filter with clamped borders, f32 -> f32, W×H row-major:
  ;; dst[y, x] = Σ_{t=0..2r} k[t] · src[y, clamp(x - r + t)]
  (func (export "blur_h") (param $src i32) (param $dst i32) (param $W i32) (param $H i32) (param $k i32) (param $r i32)
    (local $T i32) (local $y i32) (local $x i32) (local $t i32) (local $row i32) (local $orow i32)
    (local $p i32) (local $s f64) (local $kv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $xs i32) (local $xe i32)
    (local.set $T (i32.add (i32.shl (local.get $r) (i32.const 1)) (i32.const 1)))
    ;; interior block: every tap of x in [r, W - r) is inside the row
    (local.set $xs (local.get $r))
    (local.set $xe (i32.sub (local.get $W) (local.get $r)))
    (block $yend (loop $yl
      (br_if $yend (i32.ge_s (local.get $y) (local.get $H)))
      (local.set $row (i32.add (local.get $src) (i32.shl (i32.mul (local.get $y) (local.get $W)) (i32.const 2))))
      (local.set $orow (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $W)) (i32.const 2))))
      (local.set $x (i32.const 0))
      (block $xend (loop $xl
        (br_if $xend (i32.ge_s (local.get $x) (local.get $W)))
        (if (i32.and (i32.ge_s (local.get $x) (local.get $xs)) (i32.le_s (i32.add (local.get $x) (i32.const 8)) (local.get $xe)))
          (then
            (local.set $a0 (f64x2.splat (f64.const 0))) (local.set $a1 (f64x2.splat (f64.const 0)))
            (local.set $a2 (f64x2.splat (f64.const 0))) (local.set $a3 (f64x2.splat (f64.const 0)))
            (local.set $p (i32.add (local.get $row) (i32.shl (i32.sub (local.get $x) (local.get $r)) (i32.const 2))))
            (local.set $t (i32.const 0))
            (loop $tl
              (local.set $kv (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $k) (i32.shl (local.get $t) (i32.const 2)))))))
              (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))))))
              (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))))))
              (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $p))))))
              (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $p))))))
              (local.set $p (i32.add (local.get $p) (i32.const 4)))
              (local.set $t (i32.add (local.get $t) (i32.const 1)))
              (br_if $tl (i32.lt_s (local.get $t) (local.get $T))))
            (local.set $p (i32.add (local.get $orow) (i32.shl (local.get $x) (i32.const 2))))
            (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a0)))
            (v128.store64_lane offset=8 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a1)))
            (v128.store64_lane offset=16 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a2)))
            (v128.store64_lane offset=24 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $a3)))
            (local.set $x (i32.add (local.get $x) (i32.const 8))))
          (else
            (local.set $s (f64.const 0))
            (local.set $t (i32.const 0))
            (loop $sl
              (local.set $s (f64.add (local.get $s) (f64.mul (call $tap (local.get $k) (local.get $t))
                (f64.promote_f32 (f32.load (i32.add (local.get $row)
                  (i32.shl (call $clamp (i32.add (i32.sub (local.get $x) (local.get $r)) (local.get $t)) (local.get $W)) (i32.const 2))))))))
              (local.set $t (i32.add (local.get $t) (i32.const 1)))
              (br_if $sl (i32.lt_s (local.get $t) (local.get $T))))
            (f32.store (i32.add (local.get $orow) (i32.shl (local.get $x) (i32.const 2))) (f32.demote_f64 (local.get $s)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))))
        (br $xl)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $yl))))

  ;; Vertical pass, clamped borders: dst[y, x] = Σ_{t=0..2r} k[t] · src[clamp(y - r + t), x]
  (func (export "blur_v") (param $src i32) (param $dst i32) (param $W i32) (param $H i32) (param $k i32) (param $r i32)
    (local $T i32) (local $y i32) (local $x i32) (local $t i32) (local $W8 i32) (local $p i32) (local $o i32)
    (local $s f64) (local $kv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $T (i32.add (i32.shl (local.get $r) (i32.const 1)) (i32.const 1)))
    (local.set $W8 (i32.and (local.get $W) (i32.const -8)))
    (block $yend (loop $yl
      (br_if $yend (i32.ge_s (local.get $y) (local.get $H)))
      (local.set $x (i32.const 0))
      (block $xend (loop $xl
        (br_if $xend (i32.ge_s (local.get $x) (local.get $W8)))
        (local.set $a0 (f64x2.splat (f64.const 0))) (local.set $a1 (f64x2.splat (f64.const 0)))
        (local.set $a2 (f64x2.splat (f64.const 0))) (local.set $a3 (f64x2.splat (f64.const 0)))
        (local.set $t (i32.const 0))
        (loop $tl
          ;; the source row, clamped to the image (inline: this runs once per tap and 8 outputs)
          (local.set $p (i32.add (i32.sub (local.get $y) (local.get $r)) (local.get $t)))
          (local.set $p (select (i32.const 0) (local.get $p) (i32.lt_s (local.get $p) (i32.const 0))))
          (local.set $p (select (i32.sub (local.get $H) (i32.const 1)) (local.get $p) (i32.ge_s (local.get $p) (local.get $H))))
          (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $W)) (local.get $x)) (i32.const 2))))
          (local.set $kv (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $k) (i32.shl (local.get $t) (i32.const 2)))))))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))))))
          (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))))))
          (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $p))))))
          (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $kv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $p))))))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br_if $tl (i32.lt_s (local.get $t) (local.get $T))))
        (local.set $o (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $W)) (local.get $x)) (i32.const 2))))
        (v128.store64_lane 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a0)))
        (v128.store64_lane offset=8 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a1)))
        (v128.store64_lane offset=16 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a2)))
        (v128.store64_lane offset=24 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a3)))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (br $xl)))
      (block $tend (loop $txl
        (br_if $tend (i32.ge_s (local.get $x) (local.get $W)))
        (local.set $s (f64.const 0))
        (local.set $t (i32.const 0))
        (loop $sl
          (local.set $s (f64.add (local.get $s) (f64.mul (call $tap (local.get $k) (local.get $t))
            (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl (i32.add
              (i32.mul (call $clamp (i32.add (i32.sub (local.get $y) (local.get $r)) (local.get $t)) (local.get $H)) (local.get $W))
              (local.get $x)) (i32.const 2))))))))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br_if $sl (i32.lt_s (local.get $t) (local.get $T))))
        (f32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $W)) (local.get $x)) (i32.const 2)))
          (f32.demote_f64 (local.get $s)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $txl)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $yl))))

  ;; Horizontal pass of the area resampler over `rows` rows of 8-bit pixels (C bytes each,
  ;; channels 0..2 used, row stride W·C) into rows of outW RGB f32 (stride outW·12 bytes):
  ;; out[u] = Σ_{j<count[u]} w[u·mc + j] · px[start[u] + j], per channel.
  (func (export "resample_h") (param $src i32) (param $rows i32) (param $W i32) (param $C i32) (param $outW i32)
      (param $start i32) (param $count i32) (param $w i32) (param $mc i32) (param $dst i32)
    (local $y i32) (local $u i32) (local $j i32) (local $n i32) (local $base i32) (local $p i32) (local $wp i32)
    (local $o i32) (local $wt f64) (local $r f64) (local $g f64) (local $b f64)
    (block $yend (loop $yl
      (br_if $yend (i32.ge_s (local.get $y) (local.get $rows)))
      (local.set $base (i32.add (local.get $src) (i32.mul (i32.mul (local.get $y) (local.get $W)) (local.get $C))))
      (local.set $o (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $y) (local.get $outW)) (i32.const 12))))
      (local.set $u (i32.const 0))
      (block $uend (loop $ul
        (br_if $uend (i32.ge_s (local.get $u) (local.get $outW)))
        (local.set $r (f64.const 0)) (local.set $g (f64.const 0)) (local.set $b (f64.const 0))
        (local.set $n (i32.load (i32.add (local.get $count) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $p (i32.add (local.get $base)
          (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $u) (i32.const 2)))) (local.get $C))))
        (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $u) (local.get $mc)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $jend (loop $jl
          (br_if $jend (i32.ge_s (local.get $j) (local.get $n)))
          (local.set $wt (f64.promote_f32 (f32.load (local.get $wp))))
          (local.set $r (f64.add (local.get $r) (f64.mul (local.get $wt) (f64.convert_i32_u (i32.load8_u (local.get $p))))))
          (local.set $g (f64.add (local.get $g) (f64.mul (local.get $wt) (f64.convert_i32_u (i32.load8_u offset=1 (local.get $p))))))
          (local.set $b (f64.add (local.get $b) (f64.mul (local.get $wt) (f64.convert_i32_u (i32.load8_u offset=2 (local.get $p))))))
          (local.set $p (i32.add (local.get $p) (local.get $C)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jl)))
        (f32.store (local.get $o) (f32.demote_f64 (local.get $r)))
        (f32.store offset=4 (local.get $o) (f32.demote_f64 (local.get $g)))
        (f32.store offset=8 (local.get $o) (f32.demote_f64 (local.get $b)))
        (local.set $o (i32.add (local.get $o) (i32.const 12)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $ul)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $yl))))

  ;; out[i] = f32(out[i] + wt · row[i]) for i < n: one source row's share of its output rows.
  (func (export "accumulate") (param $out i32) (param $row i32) (param $n i32) (param $wt f64)
    (local $i i32) (local $n2 i32) (local $wv v128) (local $o i32) (local $p i32)
    (local.set $wv (f64x2.splat (local.get $wt)))
    (local.set $n2 (i32.and (local.get $n) (i32.const -2)))
    (block $end (loop $l
      (br_if $end (i32.ge_s (local.get $i) (local.get $n2)))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))))
      (local.set $p (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))
      (v128.store64_lane 0 (local.get $o) (f32x4.demote_f64x2_zero (f64x2.add
        (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $o)))
        (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $l)))
    (if (i32.lt_s (local.get $i) (local.get $n))
      (then
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))))
        (f32.store (local.get $o) (f32.demote_f64 (f64.add
          (f64.promote_f32 (f32.load (local.get $o)))
          (f64.mul (local.get $wt) (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))))))))))
)

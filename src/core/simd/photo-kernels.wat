;; FundusLens photo kernels: the hot loops of the JS photo stages (area resampling, separable
;; Gaussian blur; the CIELAB colour step further down) as WebAssembly with 128-bit SIMD. The
;; resampling and blur functions compute EXACTLY what their
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
  ;; out[u] = Σ_{j<count[u]} w[u·mc + j] · px[start[u] + j], per channel; w as f64 (the f32 weights, promoted).
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
        (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $u) (local.get $mc)) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $jend (loop $jl
          (br_if $jend (i32.ge_s (local.get $j) (local.get $n)))
          (local.set $wt (f64.load (local.get $wp)))
          (local.set $r (f64.add (local.get $r) (f64.mul (local.get $wt) (f64.convert_i32_u (i32.load8_u (local.get $p))))))
          (local.set $g (f64.add (local.get $g) (f64.mul (local.get $wt) (f64.convert_i32_u (i32.load8_u offset=1 (local.get $p))))))
          (local.set $b (f64.add (local.get $b) (f64.mul (local.get $wt) (f64.convert_i32_u (i32.load8_u offset=2 (local.get $p))))))
          (local.set $p (i32.add (local.get $p) (local.get $C)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
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

;; Two source rows at once (y and y + 1, `stride` bytes apart), one f64x2 lane each: the same products and sums,
  ;; in the same order, as resample_h computes for each row alone, so the same bits; half the arithmetic
  ;; instructions. Each tap reads 4 bytes of a pixel, so the source must have one readable byte after its last row.
  (func (export "resample_h2") (param $src i32) (param $rows i32) (param $W i32) (param $C i32) (param $outW i32)
      (param $start i32) (param $count i32) (param $w i32) (param $mc i32) (param $dst i32)
    (local $y i32) (local $u i32) (local $wend i32) (local $stride i32) (local $pa i32) (local $wp i32)
    (local $oa i32) (local $ob i32) (local $ostride i32) (local $v v128) (local $wt v128)
    (local $r v128) (local $g v128) (local $b v128)
    (local.set $stride (i32.mul (local.get $W) (local.get $C)))
    (local.set $ostride (i32.mul (local.get $outW) (i32.const 12)))
    (block $yend (loop $yl
      (br_if $yend (i32.gt_s (i32.add (local.get $y) (i32.const 2)) (local.get $rows)))
      (local.set $oa (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $ostride))))
      (local.set $ob (i32.add (local.get $oa) (local.get $ostride)))
      (local.set $u (i32.const 0))
      (block $uend (loop $ul
        (br_if $uend (i32.ge_s (local.get $u) (local.get $outW)))
        (local.set $r (v128.const i64x2 0 0)) (local.set $g (v128.const i64x2 0 0)) (local.set $b (v128.const i64x2 0 0))
        (local.set $pa (i32.add
          (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $stride)))
          (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $u) (i32.const 2)))) (local.get $C))))
        (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $u) (local.get $mc)) (i32.const 3))))
        (local.set $wend (i32.add (local.get $wp)
          (i32.shl (i32.load (i32.add (local.get $count) (i32.shl (local.get $u) (i32.const 2)))) (i32.const 3))))
        (block $jend (loop $jl
          (br_if $jend (i32.ge_u (local.get $wp) (local.get $wend)))
          ;; bytes 0..3: row y's pixel, 4..7: row y + 1's; each channel's pair picked into i32 lanes 0 and 1
          (local.set $v (v128.load32_lane 1 (i32.add (local.get $pa) (local.get $stride)) (v128.load32_zero (local.get $pa))))
          (local.set $wt (v128.load64_splat (local.get $wp)))
          (local.set $r (f64x2.add (local.get $r) (f64x2.mul (local.get $wt) (f64x2.convert_low_i32x4_s
            (i8x16.swizzle (local.get $v) (v128.const i8x16 0 255 255 255 4 255 255 255 255 255 255 255 255 255 255 255))))))
          (local.set $g (f64x2.add (local.get $g) (f64x2.mul (local.get $wt) (f64x2.convert_low_i32x4_s
            (i8x16.swizzle (local.get $v) (v128.const i8x16 1 255 255 255 5 255 255 255 255 255 255 255 255 255 255 255))))))
          (local.set $b (f64x2.add (local.get $b) (f64x2.mul (local.get $wt) (f64x2.convert_low_i32x4_s
            (i8x16.swizzle (local.get $v) (v128.const i8x16 2 255 255 255 6 255 255 255 255 255 255 255 255 255 255 255))))))
          (local.set $pa (i32.add (local.get $pa) (local.get $C)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
          (br $jl)))
        (f32.store (local.get $oa) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $r))))
        (f32.store offset=4 (local.get $oa) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $g))))
        (f32.store offset=8 (local.get $oa) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $b))))
        (f32.store (local.get $ob) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $r))))
        (f32.store offset=4 (local.get $ob) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $g))))
        (f32.store offset=8 (local.get $ob) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $b))))
        (local.set $oa (i32.add (local.get $oa) (i32.const 12)))
        (local.set $ob (i32.add (local.get $ob) (i32.const 12)))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $ul)))
      (local.set $y (i32.add (local.get $y) (i32.const 2)))
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

;; ---- CLAHE's blend (preprocess/clahe.ts): each pixel's value looked up in the four nearest tiles' tables and
;; mixed bilinearly, every operation one f32 operation in the order clahe.ts writes it (Math.fround after each),
;; then rounded half to even (f32.nearest) and clamped to 0..255: the same bytes as its JS loop.
;; Per column x (W entries each, the arrays padded to a multiple of 4): i32 $ind1 / $ind2 (the left / right tile's
;; table offset), f32 $xa / $xa1 (right / left weight). Per row y (16 bytes): i32 p1, i32 p2 (the upper / lower
;; tile row's table offset), f32 ya, f32 ya1. $luts: the u8 tables.

  ;; f32 of luts[$row + ind[x + l] + src[l]] for the four lanes l
  (func $lut4 (param $luts i32) (param $row i32) (param $ind i32) (param $px i32) (result v128)
    (local $v v128) (local $b i32)
    (local.set $b (i32.add (local.get $luts) (local.get $row)))
    (local.set $v (f32x4.replace_lane 0 (local.get $v) (f32.convert_i32_u (i32.load8_u
      (i32.add (i32.add (local.get $b) (i32.load offset=0 (local.get $ind))) (i32.load8_u offset=0 (local.get $px)))))))
    (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.convert_i32_u (i32.load8_u
      (i32.add (i32.add (local.get $b) (i32.load offset=4 (local.get $ind))) (i32.load8_u offset=1 (local.get $px)))))))
    (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.convert_i32_u (i32.load8_u
      (i32.add (i32.add (local.get $b) (i32.load offset=8 (local.get $ind))) (i32.load8_u offset=2 (local.get $px)))))))
    (f32x4.replace_lane 3 (local.get $v) (f32.convert_i32_u (i32.load8_u
      (i32.add (i32.add (local.get $b) (i32.load offset=12 (local.get $ind))) (i32.load8_u offset=3 (local.get $px)))))))

  (func (export "clahe_blend") (param $src i32) (param $dst i32) (param $W i32) (param $H i32) (param $luts i32)
      (param $ind1 i32) (param $ind2 i32) (param $xa i32) (param $xa1 i32) (param $rows i32)
    (local $y i32) (local $x i32) (local $W4 i32) (local $p1 i32) (local $p2 i32) (local $ya f32) (local $ya1 f32)
    (local $px i32) (local $o i32) (local $v i32) (local $a f32) (local $b f32)
    (local $wa v128) (local $wa1 v128) (local $va v128) (local $vb v128)
    (local.set $W4 (i32.and (local.get $W) (i32.const -4)))
    (block $yend (loop $yl
      (br_if $yend (i32.ge_s (local.get $y) (local.get $H)))
      (local.set $p1 (i32.load offset=0 (i32.add (local.get $rows) (i32.shl (local.get $y) (i32.const 4)))))
      (local.set $p2 (i32.load offset=4 (i32.add (local.get $rows) (i32.shl (local.get $y) (i32.const 4)))))
      (local.set $ya (f32.load offset=8 (i32.add (local.get $rows) (i32.shl (local.get $y) (i32.const 4)))))
      (local.set $ya1 (f32.load offset=12 (i32.add (local.get $rows) (i32.shl (local.get $y) (i32.const 4)))))
      (local.set $px (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $W))))
      (local.set $o (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $W))))
      (local.set $x (i32.const 0))
      (block $xend (loop $xl
        (br_if $xend (i32.ge_s (local.get $x) (local.get $W4)))
        (local.set $wa (v128.load (i32.add (local.get $xa) (i32.shl (local.get $x) (i32.const 2)))))
        (local.set $wa1 (v128.load (i32.add (local.get $xa1) (i32.shl (local.get $x) (i32.const 2)))))
        ;; a = lut(p1, ind1)·xa1 + lut(p1, ind2)·xa; b the same on p2; res = a·ya1 + b·ya
        (local.set $va (f32x4.add
          (f32x4.mul (call $lut4 (local.get $luts) (local.get $p1) (i32.add (local.get $ind1) (i32.shl (local.get $x) (i32.const 2))) (local.get $px)) (local.get $wa1))
          (f32x4.mul (call $lut4 (local.get $luts) (local.get $p1) (i32.add (local.get $ind2) (i32.shl (local.get $x) (i32.const 2))) (local.get $px)) (local.get $wa))))
        (local.set $vb (f32x4.add
          (f32x4.mul (call $lut4 (local.get $luts) (local.get $p2) (i32.add (local.get $ind1) (i32.shl (local.get $x) (i32.const 2))) (local.get $px)) (local.get $wa1))
          (f32x4.mul (call $lut4 (local.get $luts) (local.get $p2) (i32.add (local.get $ind2) (i32.shl (local.get $x) (i32.const 2))) (local.get $px)) (local.get $wa))))
        (v128.store32_lane 0 (local.get $o)
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_u
              (i32x4.trunc_sat_f32x4_u (f32x4.min (f32x4.splat (f32.const 255)) (f32x4.max (f32x4.splat (f32.const 0))
                (f32x4.nearest (f32x4.add (f32x4.mul (local.get $va) (f32x4.splat (local.get $ya1))) (f32x4.mul (local.get $vb) (f32x4.splat (local.get $ya))))))))
              (v128.const i32x4 0 0 0 0))
            (v128.const i32x4 0 0 0 0)))
        (local.set $px (i32.add (local.get $px) (i32.const 4)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $xl)))
      ;; the last W mod 4 pixels one at a time, the same operations in f32 scalars
      (block $tend (loop $tl
        (br_if $tend (i32.ge_s (local.get $x) (local.get $W)))
        (local.set $v (i32.load8_u (local.get $px)))
        (local.set $a (f32.add
          (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (i32.add (i32.add (local.get $luts) (local.get $p1))
            (i32.load (i32.add (local.get $ind1) (i32.shl (local.get $x) (i32.const 2))))) (local.get $v))))
            (f32.load (i32.add (local.get $xa1) (i32.shl (local.get $x) (i32.const 2)))))
          (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (i32.add (i32.add (local.get $luts) (local.get $p1))
            (i32.load (i32.add (local.get $ind2) (i32.shl (local.get $x) (i32.const 2))))) (local.get $v))))
            (f32.load (i32.add (local.get $xa) (i32.shl (local.get $x) (i32.const 2)))))))
        (local.set $b (f32.add
          (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (i32.add (i32.add (local.get $luts) (local.get $p2))
            (i32.load (i32.add (local.get $ind1) (i32.shl (local.get $x) (i32.const 2))))) (local.get $v))))
            (f32.load (i32.add (local.get $xa1) (i32.shl (local.get $x) (i32.const 2)))))
          (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (i32.add (i32.add (local.get $luts) (local.get $p2))
            (i32.load (i32.add (local.get $ind2) (i32.shl (local.get $x) (i32.const 2))))) (local.get $v))))
            (f32.load (i32.add (local.get $xa) (i32.shl (local.get $x) (i32.const 2)))))))
        (i32.store8 (local.get $o) (i32.trunc_sat_f32_u (f32.min (f32.const 255) (f32.max (f32.const 0)
          (f32.nearest (f32.add (f32.mul (local.get $a) (local.get $ya1)) (f32.mul (local.get $b) (local.get $ya))))))))
        (local.set $px (i32.add (local.get $px) (i32.const 1)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $tl)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $yl))))

;; ---- Colour kernels: the CIELAB steps of preprocessing (preprocess/colour.ts), four pixels per step.
;; Unlike the kernels above these are not f64 sums: every operation is one f32 operation, in the order
;; their TypeScript twins (colour.ts lightnessX32, replaceLightness32) write with Math.fround after each,
;; so the two paths give the same bits. Gamma and the cube root come from the same f32 tables with linear
;; interpolation (built by colour.ts; 16385 entries each, 0..N); per-lane table reads are scalar loads.
;; Lanes whose branch is not taken are computed too and dropped by bitselect; their table indices are
;; clamped to the table, so no value, not even a NaN, can read outside it.

  ;; a + (b - a)·(x - i), with i = clamp(trunc x, 0, N - 1), a = t[i], b = t[i + 1]: the tables' linear interpolation
  (func $look (param $t i32) (param $x v128) (result v128)
    (local $i v128) (local $a v128) (local $b v128) (local $p i32)
    (local.set $i (i32x4.min_s (i32x4.max_s (i32x4.trunc_sat_f32x4_s (local.get $x)) (v128.const i32x4 0 0 0 0))
      (i32x4.splat (i32.const 16383))))
    (local.set $p (i32.add (local.get $t) (i32.shl (i32x4.extract_lane 0 (local.get $i)) (i32.const 2))))
    (local.set $a (f32x4.replace_lane 0 (local.get $a) (f32.load (local.get $p))))
    (local.set $b (f32x4.replace_lane 0 (local.get $b) (f32.load offset=4 (local.get $p))))
    (local.set $p (i32.add (local.get $t) (i32.shl (i32x4.extract_lane 1 (local.get $i)) (i32.const 2))))
    (local.set $a (f32x4.replace_lane 1 (local.get $a) (f32.load (local.get $p))))
    (local.set $b (f32x4.replace_lane 1 (local.get $b) (f32.load offset=4 (local.get $p))))
    (local.set $p (i32.add (local.get $t) (i32.shl (i32x4.extract_lane 2 (local.get $i)) (i32.const 2))))
    (local.set $a (f32x4.replace_lane 2 (local.get $a) (f32.load (local.get $p))))
    (local.set $b (f32x4.replace_lane 2 (local.get $b) (f32.load offset=4 (local.get $p))))
    (local.set $p (i32.add (local.get $t) (i32.shl (i32x4.extract_lane 3 (local.get $i)) (i32.const 2))))
    (local.set $a (f32x4.replace_lane 3 (local.get $a) (f32.load (local.get $p))))
    (local.set $b (f32x4.replace_lane 3 (local.get $b) (f32.load offset=4 (local.get $p))))
    (f32x4.add (local.get $a) (f32x4.mul (f32x4.sub (local.get $b) (local.get $a))
      (f32x4.sub (local.get $x) (f32x4.convert_i32x4_s (local.get $i))))))

  ;; min(1, max(0, v))
  (func $clamp01 (param $v v128) (result v128)
    (f32x4.min (f32x4.splat (f32.const 0x1p+0)) (f32x4.max (f32x4.splat (f32.const 0x0p+0)) (local.get $v))))

  ;; u^(1/3) for u in [0, 1]: the table of s^(2/3) over s = sqrt(u)
  (func $cbrt (param $u v128) (param $tc i32) (result v128)
    (call $look (local.get $tc) (f32x4.mul (f32x4.sqrt (local.get $u)) (f32x4.splat (f32.const 0x1p+14)))))

  ;; CIE f(t): t^(1/3) above ε, linear below
  (func $flab (param $t v128) (param $tc i32) (result v128)
    (v128.bitselect (call $cbrt (local.get $t) (local.get $tc))
      (f32x4.add (f32x4.mul (local.get $t) (f32x4.splat (f32.const 0x1.f25e36p+2))) (f32x4.splat (f32.const 0x1.1a7b96p-3)))
      (f32x4.gt (local.get $t) (f32x4.splat (f32.const 0x1.223184p-7)))))

  ;; f⁻¹(t): t³ above 6/29, linear below
  (func $invf (param $t v128) (result v128)
    (v128.bitselect (f32x4.mul (f32x4.mul (local.get $t) (local.get $t)) (local.get $t))
      (f32x4.div (f32x4.sub (local.get $t) (f32x4.splat (f32.const 0x1.1a7b96p-3))) (f32x4.splat (f32.const 0x1.f25e36p+2)))
      (f32x4.gt (local.get $t) (f32x4.splat (f32.const 0x1.a7b962p-3)))))

  ;; sRGB gamma of c in [0, 1]: linear part, or the table over c
  (func $tolinear (param $c v128) (param $tl i32) (result v128)
    (v128.bitselect (f32x4.div (local.get $c) (f32x4.splat (f32.const 0x1.9d70a4p+3)))
      (call $look (local.get $tl) (f32x4.mul (f32x4.sub (local.get $c) (f32x4.splat (f32.const 0x1.4b5dccp-5))) (f32x4.splat (f32.const 0x1.0acaaep+14))))
      (f32x4.le (local.get $c) (f32x4.splat (f32.const 0x1.4b5dccp-5)))))

  ;; sRGB companding of a linear value, clipped to [0, 1] before and after: linear part, or the table over sqrt(v)
  (func $tosrgb (param $c v128) (param $ts i32) (result v128)
    (local $v v128)
    (local.set $v (call $clamp01 (local.get $c)))
    (call $clamp01 (v128.bitselect (f32x4.mul (local.get $v) (f32x4.splat (f32.const 0x1.9d70a4p+3)))
      (call $look (local.get $ts) (f32x4.mul (f32x4.sqrt (local.get $v)) (f32x4.splat (f32.const 0x1p+14))))
      (f32x4.le (local.get $v) (f32x4.splat (f32.const 0x1.9a5c38p-9))))))

  ;; For `groups`·4 pixels of interleaved RGB (0..255 f32) at $rgb: the linear RGB (0..1) at $lin, interleaved, and
  ;; L* on OpenCV's 8-bit scale at $out8: x = L*·2.55 rounded half up and clamped to 0..255, except where x lies
  ;; within $guard of a rounding boundary (x.5): there the f32 value is not trusted, $out8 gets 0 and the pixel's
  ;; index is appended to the i32 list at $flags (the caller recomputes it in float64). Returns the list's length.
  ;; $tl, $tc: the gamma and cube-root tables.
  (func (export "lab_lightness") (param $rgb i32) (param $out8 i32) (param $lin i32) (param $groups i32) (param $tl i32) (param $tc i32)
      (param $flags i32) (param $guard f32) (result i32)
    (local $gi i32) (local $p i32) (local $r v128) (local $g v128) (local $b v128) (local $y v128)
    (local $x v128) (local $fl v128) (local $d v128) (local $gv v128) (local $near v128) (local $bm i32) (local $j i32) (local $nf i32)
    (local.set $gv (f32x4.splat (local.get $guard)))
    (block $end (loop $l
      (br_if $end (i32.ge_s (local.get $gi) (local.get $groups)))
      (local.set $p (i32.add (local.get $rgb) (i32.mul (local.get $gi) (i32.const 48))))
      ;; four black pixels (the masked-out corners, ~27 % of the model grid): L* 0 and linear 0, as computed below
      (if (i32.eqz (v128.any_true (v128.or (v128.or (v128.load (local.get $p)) (v128.load offset=16 (local.get $p)))
          (v128.load offset=32 (local.get $p))))) (then
        (i32.store (i32.add (local.get $out8) (i32.shl (local.get $gi) (i32.const 2))) (i32.const 0))
        (local.set $p (i32.add (local.get $lin) (i32.mul (local.get $gi) (i32.const 48))))
        (v128.store offset=0 (local.get $p) (v128.const i32x4 0 0 0 0))
        (v128.store offset=16 (local.get $p) (v128.const i32x4 0 0 0 0))
        (v128.store offset=32 (local.get $p) (v128.const i32x4 0 0 0 0))
        (local.set $gi (i32.add (local.get $gi) (i32.const 1)))
        (br $l)))
      (local.set $r (call $tolinear (call $clamp01 (f32x4.div (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (v128.load32_zero offset=0 (local.get $p)) (f32.load offset=12 (local.get $p))) (f32.load offset=24 (local.get $p))) (f32.load offset=36 (local.get $p))) (f32x4.splat (f32.const 0x1.fep+7)))) (local.get $tl)))
      (local.set $g (call $tolinear (call $clamp01 (f32x4.div (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (v128.load32_zero offset=4 (local.get $p)) (f32.load offset=16 (local.get $p))) (f32.load offset=28 (local.get $p))) (f32.load offset=40 (local.get $p))) (f32x4.splat (f32.const 0x1.fep+7)))) (local.get $tl)))
      (local.set $b (call $tolinear (call $clamp01 (f32x4.div (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (v128.load32_zero offset=8 (local.get $p)) (f32.load offset=20 (local.get $p))) (f32.load offset=32 (local.get $p))) (f32.load offset=44 (local.get $p))) (f32x4.splat (f32.const 0x1.fep+7)))) (local.get $tl)))
      (local.set $y (f32x4.add (f32x4.add (f32x4.mul (f32x4.splat (f32.const 0x1.b38cdap-3)) (local.get $r)) (f32x4.mul (f32x4.splat (f32.const 0x1.6e2974p-1)) (local.get $g))) (f32x4.mul (f32x4.splat (f32.const 0x1.279aaep-4)) (local.get $b))))
      (local.set $x (f32x4.mul (v128.bitselect
          (f32x4.sub (f32x4.mul (f32x4.splat (f32.const 0x1.dp+6)) (call $cbrt (local.get $y) (local.get $tc))) (f32x4.splat (f32.const 0x1p+4)))
          (f32x4.mul (f32x4.splat (f32.const 0x1.c3a666p+9)) (local.get $y))
          (f32x4.gt (local.get $y) (f32x4.splat (f32.const 0x1.223184p-7)))) (f32x4.splat (f32.const 0x1.466666p+1))))
      ;; d = x - floor(x) - 0.5 is exact in f32 (the fraction's bits, then a shift by 0.5 on the same grid)
      (local.set $fl (f32x4.floor (local.get $x)))
      (local.set $d (f32x4.sub (f32x4.sub (local.get $x) (local.get $fl)) (f32x4.splat (f32.const 0.5))))
      (local.set $near (v128.and (f32x4.gt (local.get $d) (f32x4.neg (local.get $gv))) (f32x4.lt (local.get $d) (local.get $gv))))
      ;; floor, or floor + 1 at and above x.5; the flagged lanes give 0; saturating narrows clamp to 0..255
      (v128.store32_lane 0 (i32.add (local.get $out8) (i32.shl (local.get $gi) (i32.const 2)))
        (i8x16.narrow_i16x8_u
          (i16x8.narrow_i32x4_s
            (v128.andnot (i32x4.trunc_sat_f32x4_s (f32x4.add (local.get $fl)
              (v128.and (f32x4.ge (local.get $d) (f32x4.splat (f32.const 0))) (f32x4.splat (f32.const 1)))))
              (local.get $near))
            (v128.const i32x4 0 0 0 0))
          (v128.const i32x4 0 0 0 0)))
      (local.set $bm (i32x4.bitmask (local.get $near)))
      (if (local.get $bm) (then
        (local.set $j (i32.const 0))
        (loop $fj
          (if (i32.and (local.get $bm) (i32.shl (i32.const 1) (local.get $j))) (then
            (i32.store (i32.add (local.get $flags) (i32.shl (local.get $nf) (i32.const 2)))
              (i32.add (i32.shl (local.get $gi) (i32.const 2)) (local.get $j)))
            (local.set $nf (i32.add (local.get $nf) (i32.const 1)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $fj (i32.lt_u (local.get $j) (i32.const 4))))))
      (local.set $p (i32.add (local.get $lin) (i32.mul (local.get $gi) (i32.const 48))))
      (f32.store offset=0 (local.get $p) (f32x4.extract_lane 0 (local.get $r)))
      (f32.store offset=4 (local.get $p) (f32x4.extract_lane 0 (local.get $g)))
      (f32.store offset=8 (local.get $p) (f32x4.extract_lane 0 (local.get $b)))
      (f32.store offset=12 (local.get $p) (f32x4.extract_lane 1 (local.get $r)))
      (f32.store offset=16 (local.get $p) (f32x4.extract_lane 1 (local.get $g)))
      (f32.store offset=20 (local.get $p) (f32x4.extract_lane 1 (local.get $b)))
      (f32.store offset=24 (local.get $p) (f32x4.extract_lane 2 (local.get $r)))
      (f32.store offset=28 (local.get $p) (f32x4.extract_lane 2 (local.get $g)))
      (f32.store offset=32 (local.get $p) (f32x4.extract_lane 2 (local.get $b)))
      (f32.store offset=36 (local.get $p) (f32x4.extract_lane 3 (local.get $r)))
      (f32.store offset=40 (local.get $p) (f32x4.extract_lane 3 (local.get $g)))
      (f32.store offset=44 (local.get $p) (f32x4.extract_lane 3 (local.get $b)))
      (local.set $gi (i32.add (local.get $gi) (i32.const 1)))
      (br $l)))
    (local.get $nf))

  ;; For `groups`·4 pixels: linear RGB at $lin (interleaved) with L* replaced by the 8-bit $l8 (0..255 = L* 0..100),
  ;; a* and b* kept, back to sRGB (0..1) times the weight at $mask (f32; weight 0 gives +0), interleaved at $out.
  (func (export "lab_replace") (param $lin i32) (param $l8 i32) (param $mask i32) (param $out i32) (param $groups i32) (param $tc i32) (param $ts i32)
    (local $gi i32) (local $p i32) (local $r v128) (local $g v128) (local $b v128)
    (local $fx v128) (local $fy v128) (local $fz v128) (local $L v128) (local $bright v128) (local $fy2 v128) (local $y2 v128)
    (local $x2 v128) (local $z2 v128) (local $m v128) (local $zero v128)
    (block $end (loop $l
      (br_if $end (i32.ge_s (local.get $gi) (local.get $groups)))
      ;; four pixels of weight 0 (outside the FOV): +0, as the andnot below gives them
      (if (i32x4.all_true (f32x4.eq (v128.load (i32.add (local.get $mask) (i32.shl (local.get $gi) (i32.const 4)))) (f32x4.splat (f32.const 0x0p+0))))
        (then
          (local.set $p (i32.add (local.get $out) (i32.mul (local.get $gi) (i32.const 48))))
          (v128.store offset=0 (local.get $p) (v128.const i32x4 0 0 0 0))
          (v128.store offset=16 (local.get $p) (v128.const i32x4 0 0 0 0))
          (v128.store offset=32 (local.get $p) (v128.const i32x4 0 0 0 0))
          (local.set $gi (i32.add (local.get $gi) (i32.const 1)))
          (br $l)))
      (local.set $p (i32.add (local.get $lin) (i32.mul (local.get $gi) (i32.const 48))))
      (local.set $r (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (v128.load32_zero offset=0 (local.get $p)) (f32.load offset=12 (local.get $p))) (f32.load offset=24 (local.get $p))) (f32.load offset=36 (local.get $p))))
      (local.set $g (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (v128.load32_zero offset=4 (local.get $p)) (f32.load offset=16 (local.get $p))) (f32.load offset=28 (local.get $p))) (f32.load offset=40 (local.get $p))))
      (local.set $b (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (v128.load32_zero offset=8 (local.get $p)) (f32.load offset=20 (local.get $p))) (f32.load offset=32 (local.get $p))) (f32.load offset=44 (local.get $p))))
      (local.set $fx (call $flab (f32x4.div (f32x4.add (f32x4.add (f32x4.mul (f32x4.splat (f32.const 0x1.a65a14p-2)) (local.get $r)) (f32x4.mul (f32x4.splat (f32.const 0x1.6e2974p-2)) (local.get $g))) (f32x4.mul (f32x4.splat (f32.const 0x1.71819ep-3)) (local.get $b))) (f32x4.splat (f32.const 0x1.e6a22cp-1))) (local.get $tc)))
      (local.set $fy (call $flab (f32x4.add (f32x4.add (f32x4.mul (f32x4.splat (f32.const 0x1.b38cdap-3)) (local.get $r)) (f32x4.mul (f32x4.splat (f32.const 0x1.6e2974p-1)) (local.get $g))) (f32x4.mul (f32x4.splat (f32.const 0x1.279aaep-4)) (local.get $b))) (local.get $tc)))
      (local.set $fz (call $flab (f32x4.div (f32x4.add (f32x4.add (f32x4.mul (f32x4.splat (f32.const 0x1.3cc4acp-6)) (local.get $r)) (f32x4.mul (f32x4.splat (f32.const 0x1.e836ecp-4)) (local.get $g))) (f32x4.mul (f32x4.splat (f32.const 0x1.e68428p-1)) (local.get $b))) (f32x4.splat (f32.const 0x1.16b896p+0))) (local.get $tc)))
      (local.set $L (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
        (v128.load32_zero (i32.add (local.get $l8) (i32.shl (local.get $gi) (i32.const 2))))))) (f32x4.splat (f32.const 0x1.919192p-2))))
      (local.set $bright (f32x4.gt (local.get $L) (f32x4.splat (f32.const 0x1.fff9dap+2))))
      (local.set $fy2 (v128.bitselect (f32x4.div (f32x4.add (local.get $L) (f32x4.splat (f32.const 0x1p+4))) (f32x4.splat (f32.const 0x1.dp+6)))
        (f32x4.add (f32x4.mul (f32x4.div (local.get $L) (f32x4.splat (f32.const 0x1.c3a666p+9))) (f32x4.splat (f32.const 0x1.f25e36p+2))) (f32x4.splat (f32.const 0x1.1a7b96p-3)))
        (local.get $bright)))
      (local.set $y2 (v128.bitselect (f32x4.mul (f32x4.mul (local.get $fy2) (local.get $fy2)) (local.get $fy2))
        (f32x4.div (local.get $L) (f32x4.splat (f32.const 0x1.c3a666p+9)))
        (local.get $bright)))
      (local.set $x2 (f32x4.mul (call $invf (f32x4.add (local.get $fy2) (f32x4.sub (local.get $fx) (local.get $fy)))) (f32x4.splat (f32.const 0x1.e6a22cp-1))))
      (local.set $z2 (f32x4.mul (call $invf (f32x4.sub (local.get $fy2) (f32x4.sub (local.get $fy) (local.get $fz)))) (f32x4.splat (f32.const 0x1.16b896p+0))))
      (local.set $m (v128.load (i32.add (local.get $mask) (i32.shl (local.get $gi) (i32.const 4)))))
      (local.set $zero (f32x4.eq (local.get $m) (f32x4.splat (f32.const 0x0p+0))))
      (local.set $r (v128.andnot (f32x4.mul (call $tosrgb (f32x4.add (f32x4.add (f32x4.mul (f32x4.splat (f32.const 0x1.9ec804p+1)) (local.get $x2)) (f32x4.mul (f32x4.splat (f32.const -0x1.8982aap+0)) (local.get $y2))) (f32x4.mul (f32x4.splat (f32.const -0x1.fe7ff6p-2)) (local.get $z2))) (local.get $ts)) (local.get $m)) (local.get $zero)))
      (local.set $g (v128.andnot (f32x4.mul (call $tosrgb (f32x4.add (f32x4.add (f32x4.mul (f32x4.splat (f32.const -0x1.f04252p-1)) (local.get $x2)) (f32x4.mul (f32x4.splat (f32.const 0x1.e040f2p+0)) (local.get $y2))) (f32x4.mul (f32x4.splat (f32.const 0x1.546d40p-5)) (local.get $z2))) (local.get $ts)) (local.get $m)) (local.get $zero)))
      (local.set $b (v128.andnot (f32x4.mul (call $tosrgb (f32x4.add (f32x4.add (f32x4.mul (f32x4.splat (f32.const 0x1.c7de50p-5)) (local.get $x2)) (f32x4.mul (f32x4.splat (f32.const -0x1.a1e14cp-3)) (local.get $y2))) (f32x4.mul (f32x4.splat (f32.const 0x1.0eabf0p+0)) (local.get $z2))) (local.get $ts)) (local.get $m)) (local.get $zero)))
      (local.set $p (i32.add (local.get $out) (i32.mul (local.get $gi) (i32.const 48))))
      (f32.store offset=0 (local.get $p) (f32x4.extract_lane 0 (local.get $r)))
      (f32.store offset=4 (local.get $p) (f32x4.extract_lane 0 (local.get $g)))
      (f32.store offset=8 (local.get $p) (f32x4.extract_lane 0 (local.get $b)))
      (f32.store offset=12 (local.get $p) (f32x4.extract_lane 1 (local.get $r)))
      (f32.store offset=16 (local.get $p) (f32x4.extract_lane 1 (local.get $g)))
      (f32.store offset=20 (local.get $p) (f32x4.extract_lane 1 (local.get $b)))
      (f32.store offset=24 (local.get $p) (f32x4.extract_lane 2 (local.get $r)))
      (f32.store offset=28 (local.get $p) (f32x4.extract_lane 2 (local.get $g)))
      (f32.store offset=32 (local.get $p) (f32x4.extract_lane 2 (local.get $b)))
      (f32.store offset=36 (local.get $p) (f32x4.extract_lane 3 (local.get $r)))
      (f32.store offset=40 (local.get $p) (f32x4.extract_lane 3 (local.get $g)))
      (f32.store offset=44 (local.get $p) (f32x4.extract_lane 3 (local.get $b)))
      (local.set $gi (i32.add (local.get $gi) (i32.const 1)))
      (br $l))))
)

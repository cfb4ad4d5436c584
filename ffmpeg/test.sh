#!/bin/sh
# Tests of lvc's FFmpeg integration (ffmpeg/build.sh): FFmpeg's liblvc
# encoder must write the same bytes as lvcenc, its decoder the same pixels as
# lvcdec, for every pixel format lvc codes; the demuxer, the muxer extension,
# image sequences, the "lvc" filter and the errors on bad streams and options.
#
# usage: sh ffmpeg/test.sh LVC_BUILD_DIR [FFMPEG_DIR]
#   FFMPEG_DIR  where ffmpeg and ffprobe were built (default
#               LVC_BUILD_DIR/ffmpeg/ffmpeg-src)
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 LVC_BUILD_DIR [FFMPEG_DIR]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
ffdir=${2:-$build/ffmpeg/ffmpeg-src}
# every run is bounded, so that a hang fails the check instead of the suite
FF="timeout 120 $ffdir/ffmpeg -nostdin -hide_banner -loglevel error -y"
FFPROBE="timeout 120 $ffdir/ffprobe -hide_banner -loglevel error"
ENC="$build/apps/lvcenc --quiet"
DEC="$build/apps/lvcdec --quiet"
for p in "$ffdir/ffmpeg" "$ffdir/ffprobe" "$build/apps/lvcenc" "$build/apps/lvcdec"; do
  if [ ! -x "$p" ]; then
    echo "ffmpeg/test.sh: $p is missing (run ffmpeg/build.sh first)" >&2
    exit 2
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  d=$1
  shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
same() { cmp -s "$1" "$2"; }
# raw FILE FMT OUT: the pixels of an image file as raw FMT samples
raw() { $FF -i "$1" -f rawvideo -pix_fmt "$2" "$3"; }
# fails CODE LOG PATTERN: ffmpeg exited non-zero without a signal and said why
fails() { [ "$1" -ne 0 ] && [ "$1" -lt 128 ] && grep -q "$3" "$2"; }

# --- registration
$ffdir/ffmpeg -hide_banner -codecs > codecs.txt 2>&1
$ffdir/ffmpeg -hide_banner -filters > filters.txt 2>&1
check "ffmpeg lists the lvc codec with the liblvc decoder and encoder" \
  grep -q 'lvc .*decoders: liblvc.*encoders: liblvc' codecs.txt
check "ffmpeg lists the lvc filter" grep -q ' lvc .*V->V' filters.txt

# --- RGB: same stream as lvcenc, same pixels as lvcdec
$FF -i "$root/samples/kodim23.png" -vf crop=256:192:256:128 src.png
$ENC -q 60 src.png -o ref.lvc
$FF -i src.png -c:v liblvc -quality 60 a.lvc
check "-quality 60 writes lvcenc -q 60's stream" same a.lvc ref.lvc
$FF -i src.png -c:v liblvc -q:v 60 b.lvc
check "-q:v 60 writes the same stream" same b.lvc ref.lvc
$FF -i src.png -c:v liblvc -threads 1 c.lvc
$ENC src.png -o ref75.lvc
check "the default quality is lvcenc's (75), at one thread too" same c.lvc ref75.lvc
$FF -i ref.lvc dec.ppm
$DEC ref.lvc -o ref.ppm
check "decoding to PPM gives lvcdec's PPM" same dec.ppm ref.ppm
$FF -threads 1 -i ref.lvc -f rawvideo t1.rgb
raw ref.ppm rgb24 ref.rgb
check "one decoding thread gives the same pixels" same t1.rgb ref.rgb
$FF -i src.png -c:v liblvc -model hyperprior -quality 40 h.lvc
$ENC -q 40 -m hyperprior src.png -o refh.lvc
check "-model hyperprior writes lvcenc -m hyperprior's stream" same h.lvc refh.lvc
$FF -i src.png -c:v liblvc -bpp 0.5 s.lvc
$ENC --bpp 0.5 src.png -o refs.lvc
check "-bpp 0.5 searches like lvcenc --bpp 0.5" same s.lvc refs.lvc

# --- every pixel format lvc codes (PNG sources of each)
for f in gray ya8 rgba rgb48 gray16 ya16 rgba64; do
  $FF -i src.png -vf "format=$f" "src_$f.png"
  $ENC -q 50 "src_$f.png" -o "ref_$f.lvc"
  $FF -i "src_$f.png" -c:v liblvc -quality 50 "a_$f.lvc"
  check "$f: same stream as lvcenc" same "a_$f.lvc" "ref_$f.lvc"
  $DEC "ref_$f.lvc" -o "ref_$f.png"
  raw "ref_$f.png" "$f" "ref_$f.raw"
  $FF -i "ref_$f.lvc" -f rawvideo -pix_fmt "$f" "dec_$f.raw"
  check "$f: same pixels as lvcdec" same "dec_$f.raw" "ref_$f.raw"
  case $f in rgb48|gray16|ya16|rgba64) want=${f}le ;; *) want=$f ;; esac
  got=$($FFPROBE -show_entries stream=pix_fmt -of csv=p=0 "ref_$f.lvc")
  check "$f: ffprobe reads the pixel format from the header ($got)" [ "$got" = "$want" ]
done
$FF -i src.png -vf format=yuv420p -c:v liblvc y.lvc
check "a YUV input is converted to RGB for the encoder" \
  sh -c "$FFPROBE -show_entries stream=pix_fmt -of csv=p=0 y.lvc | grep -qx rgb24"

# --- demuxing and probing
check "decoded frames are tagged full range" \
  sh -c "$FFPROBE -show_entries stream=color_range -of csv=p=0 ref.lvc | grep -qx pc"
cp ref.lvc noext
$FFPROBE -show_entries stream=codec_name,width,height -of csv=p=0 noext > probe.txt
check "ffprobe finds an lvc stream by its content" grep -qx 'lvc,256,192' probe.txt
$FF -i noext -f rawvideo noext.rgb
check "decoding a file without extension" same noext.rgb ref.rgb

# --- image sequences
$FF -f lavfi -i testsrc2=size=128x96:rate=5 -frames:v 4 seq%02d.png
$FF -i seq%02d.png -c:v liblvc -quality 30 seq%02d.lvc
$FF -i seq%02d.lvc -f rawvideo -pix_fmt rgb24 seq.rgb
: > ref_seq.rgb
seq_ok=1
for i in 01 02 03 04; do
  $ENC -q 30 "seq$i.png" -o "ref$i.lvc"
  same "seq$i.lvc" "ref$i.lvc" || seq_ok=0
  $DEC "ref$i.lvc" -o "ref$i.ppm"
  raw "ref$i.ppm" rgb24 "ref$i.rgb"
  cat "ref$i.rgb" >> ref_seq.rgb
done
check "a 4-frame sequence: each frame's stream is lvcenc's" [ "$seq_ok" = 1 ]
check "a 4-frame sequence decodes to lvcdec's frames" same seq.rgb ref_seq.rgb

# --- pipes: frames back to back, split again by the parser
$FF -i seq%02d.png -c:v liblvc -quality 30 -f image2pipe - > seq.pipe
cat seq01.lvc seq02.lvc seq03.lvc seq04.lvc > ref.pipe
check "frames written to a pipe are lvcenc's streams back to back" same seq.pipe ref.pipe
$FF -f lvc_pipe -i - -f rawvideo -pix_fmt rgb24 pipe.rgb < seq.pipe
check "a pipe of 4 frames decodes to lvcdec's frames" same pipe.rgb ref_seq.rgb
$ENC -q 60 "$root/samples/kodim23.png" -o big.lvc
$DEC big.lvc -o big.ppm
raw big.ppm rgb24 big1.rgb
cat big.lvc big.lvc big.lvc | $FF -f lvc_pipe -i - -f rawvideo big.rgb
cat big1.rgb big1.rgb big1.rgb > ref3.rgb
check "streams longer than the demuxer's 4096-byte reads are split right" \
  sh -c "[ $(wc -c < big.lvc) -gt 4096 ] && cmp -s big.rgb ref3.rgb"
split_ok=1
for fs in 1 2 3 5 7 64 1000; do
  $FF -f lvc_pipe -frame_size $fs -i - -f rawvideo -pix_fmt rgb24 fs.rgb < seq.pipe
  same fs.rgb ref_seq.rgb || split_ok=0
done
check "reads of 1, 2, 3, 5, 7, 64 and 1000 bytes split the pipe the same" [ "$split_ok" = 1 ]
# junk between streams: what cannot start a stream (a zero byte), a PNG's
# first bytes ("\x89PNG", a stream until "P"), printable junk, junk ending
# in a zero byte; the streams around each decode
{ printf '\0'; head -c 776 "$root/samples/kodim23.png"; } > junk1
printf 'junkjunkjunk' > junk2
printf 'junk\0' > junk3
cat seq01.lvc junk1 seq02.lvc junk2 seq03.lvc junk3 seq04.lvc |
  $FF -f lvc_pipe -i - -fps_mode passthrough -f rawvideo -pix_fmt rgb24 junk.rgb 2> /dev/null
check "junk between piped frames is skipped, the frames around it decode" same junk.rgb ref_seq.rgb
cat ref02.rgb ref03.rgb ref04.rgb > ref234.rgb
hdr_ok=1
for cut in 4 5 8; do
  { head -c $cut seq01.lvc; cat seq02.lvc seq03.lvc seq04.lvc; } |
    $FF -f lvc_pipe -i - -fps_mode passthrough -f rawvideo -pix_fmt rgb24 cut.rgb 2> /dev/null
  same cut.rgb ref234.rgb || hdr_ok=0
done
check "a stream cut in its header or first box type (4, 5, 8 bytes): the 3 after it decode" [ "$hdr_ok" = 1 ]
head -c 3000 seq.pipe | $FF -f lvc_pipe -i - -f null - > /dev/null 2>&1
check "a pipe cut inside a frame ends without a crash" [ $? -lt 124 ]
head -c 200000 "$root/samples/kodim23.png" | $FF -f lvc_pipe -i - -f null - > /dev/null 2>&1
check "a pipe of PNG data ends without a crash" [ $? -lt 124 ]
{ printf '\211LVC\003\001ihdr\001\377\377\377\377\017'; head -c 3000000 /dev/zero | tr '\0' A; } |
  $FF -f lvc_pipe -i - -f null - > /dev/null 2>&1
check "a box claiming 4 GiB ends without a crash" [ $? -lt 124 ]

# --- the filter
$FF -i src.png -vf "lvc=quality=60,metadata=mode=print:file=meta.txt" -f rawvideo -pix_fmt rgb24 filt.rgb
check "lvc=quality=60 outputs lvcdec's pixels of lvcenc -q 60" same filt.rgb ref.rgb
$FF -i src.png -vf "lvc=quality=60:threads=1" -f rawvideo -pix_fmt rgb24 filt1.rgb
check "... at one thread too" same filt1.rgb ref.rgb
size=$(wc -c < ref.lvc | tr -d ' ')
check "the filter's frame metadata has the stream's size" grep -qx "lavfi.lvc.bytes=$size" meta.txt
timeout 120 $ffdir/ffmpeg -nostdin -hide_banner -i src.png \
  -lavfi "[0]split[a][b];[a]lvc=quality=60[c];[c][b]psnr" -f null - > psnr.txt 2>&1
check "the filter feeds psnr, and reports its rate" sh -c \
  "grep -q 'PSNR r:' psnr.txt && grep -q '1 frames, $size bytes' psnr.txt"

# --- errors: a clear message and a non-zero exit, no crash
head -c 2000 ref.lvc > trunc.lvc
$FF -xerror -i trunc.lvc -f null - > e1.txt 2>&1
check "a truncated stream is an error" fails $? e1.txt 'lvc decoding failed'
cp ref.lvc crc.lvc
printf '\377' | dd of=crc.lvc bs=1 seek=1000 conv=notrunc 2> /dev/null
$FF -xerror -i crc.lvc -f null - > e2.txt 2>&1
check "a damaged stream is an error" fails $? e2.txt 'lvc decoding failed'
head -c 3000 /dev/zero > zero.lvc
$FF -xerror -c:v liblvc -f image2 -i zero.lvc -f null - > e3.txt 2>&1
check "data that is not lvc is an error" fails $? e3.txt 'lvc decoding failed'
$FF -i src.png -c:v liblvc -model nosuch bad.lvc > e4.txt 2>&1
check "an unknown model is refused" fails $? e4.txt 'cannot open the lvc encoder for model nosuch'
check "... and writes no file" [ ! -e bad.lvc ]
$FF -i src.png -vf lvc=model=nosuch -f null - > e5.txt 2>&1
check "the filter refuses an unknown model" fails $? e5.txt 'cannot open lvc with model nosuch'

echo "1..$n"
if [ "$failed" -ne 0 ]; then
  echo "ffmpeg/test.sh: $failed of $n failed" >&2
  exit 1
fi
echo "ffmpeg/test.sh: all $n passed"

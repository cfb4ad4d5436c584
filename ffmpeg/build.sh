#!/bin/sh
# Build FFmpeg 5.1 (Debian 12's version) with lvc in it: the liblvc decoder
# and encoder (codec "lvc"), the .lvc image demuxer and muxer extension,
# the "lvc" video filter, and a parser that splits piped streams. The build
# is a small static FFmpeg (ffmpeg and ffprobe, a few codecs and filters)
# that links liblvc from an lvc build directory; it does not touch the
# system's FFmpeg.
#
# usage: sh ffmpeg/build.sh [-s SOURCE] [-j JOBS] LVC_BUILD_DIR [OUT_DIR]
#   SOURCE   an FFmpeg 5.1 source directory or .tar.xz; without it Debian's
#            source package of ffmpeg is downloaded into OUT_DIR/src (once)
#   OUT_DIR  default LVC_BUILD_DIR/ffmpeg; the programs end up in
#            OUT_DIR/ffmpeg-src/ffmpeg and ffprobe
set -eu

src=""
jobs=$(nproc 2>/dev/null || echo 2)
while getopts s:j: opt; do
  case $opt in
    s) src=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-s SOURCE] [-j JOBS] LVC_BUILD_DIR [OUT_DIR]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 [-s SOURCE] [-j JOBS] LVC_BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
lvcbuild=$(cd "$1" && pwd)
out=${2:-$lvcbuild/ffmpeg}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ ! -e "$lvcbuild/meson-uninstalled/lvc-uninstalled.pc" ]; then
  echo "ffmpeg/build.sh: $lvcbuild is not a configured lvc build (no meson-uninstalled/lvc-uninstalled.pc)" >&2
  exit 1
fi

# 1. The FFmpeg source.
if [ -z "$src" ]; then
  newest() { ls "$out"/src/ffmpeg_5.1*.orig.tar.xz 2>/dev/null | sort -V | tail -n 1; }
  src=$(newest)
  if [ -z "$src" ]; then
    echo "ffmpeg/build.sh: downloading Debian's ffmpeg source package"
    mkdir -p "$out/src/lists/partial" "$out/src/cache/archives/partial"
    cat > "$out/src/sources.list" <<EOF
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
    apt_opts="-o Dir::Etc::SourceList=$out/src/sources.list -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists=$out/src/lists -o Dir::Cache=$out/src/cache
      -o APT::Sandbox::User=root -qq"
    # shellcheck disable=SC2086
    apt-get $apt_opts update
    # shellcheck disable=SC2086
    (cd "$out/src" && apt-get $apt_opts source --download-only ffmpeg)
    src=$(newest)
    if [ -z "$src" ]; then
      echo "ffmpeg/build.sh: Debian's source of ffmpeg is not 5.1 (the patch is for 5.1):" \
        "$(ls "$out"/src/*.orig.tar.* 2>/dev/null)" >&2
      exit 1
    fi
  fi
fi

tree="$out/ffmpeg-src"
rm -rf "$tree"
if [ -d "$src" ]; then
  cp -R "$src" "$tree"
else
  mkdir -p "$tree"
  tar -xJf "$src" -C "$tree" --strip-components=1
fi
if ! grep -q '^5\.1' "$tree/RELEASE"; then
  echo "ffmpeg/build.sh: $src is FFmpeg $(cat "$tree/RELEASE"), the patch is for 5.1" >&2
  exit 1
fi

# 2. lvc's files and the registration patch.
(cd "$tree" && patch -p1 -s < "$here/ffmpeg-5.1-liblvc.patch")
cp "$here"/libavcodec/liblvc.h "$here"/libavcodec/liblvcdec.c \
  "$here"/libavcodec/liblvcenc.c "$here"/libavcodec/lvc_parser.c "$tree/libavcodec/"
cp "$here"/libavfilter/vf_lvc.c "$tree/libavfilter/"

# 3. A small configuration: what the lvc integration and its tests use.
cd "$tree"
PKG_CONFIG_PATH="$lvcbuild/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
./configure --disable-everything --disable-autodetect --disable-doc \
  --disable-x86asm --disable-shared --enable-static --disable-ffplay \
  --enable-zlib --enable-liblvc \
  --enable-decoder=liblvc,png,ppm,pgm,pam,rawvideo \
  --enable-encoder=liblvc,png,ppm,pgm,pam,rawvideo,wrapped_avframe \
  --enable-parser=lvc,png \
  --enable-demuxer=image2,image_lvc_pipe,image_png_pipe,image_ppm_pipe,image_pam_pipe,rawvideo \
  --enable-muxer=image2,image2pipe,rawvideo,framemd5,null \
  --enable-protocol=file,pipe --enable-indev=lavfi \
  --enable-filter=lvc,testsrc2,format,scale,null,split,psnr,ssim,metadata,crop \
  --extra-ldflags="-Wl,-rpath,$lvcbuild" > "$out/configure.log" 2>&1 || {
    tail -n 30 "$out/configure.log" >&2
    tail -n 30 ffbuild/config.log >&2
    exit 1
  }
for c in 'liblvc decoder' 'liblvc encoder' 'lvc parser' 'lvc filter'; do
  kind=${c#* }
  name=${c% *}
  if ! grep -q "CONFIG_$(echo "${name}_$kind" | tr a-z A-Z) 1" config.h config_components.h; then
    echo "ffmpeg/build.sh: configure did not enable the $c" >&2
    exit 1
  fi
done
make -j "$jobs" ffmpeg ffprobe > "$out/make.log" 2>&1 || {
  tail -n 40 "$out/make.log" >&2
  exit 1
}
echo "ffmpeg/build.sh: built $tree/ffmpeg and $tree/ffprobe"

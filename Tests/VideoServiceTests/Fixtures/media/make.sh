#!/bin/sh
# Makes the container-header fixtures of MediaHeaderTests (a few frames each; sizes are what the
# tests read back). Run from this folder with ffmpeg 5.1 or later; the files are committed.
set -eu
ff() { ffmpeg -v error -y "$@"; }
# Index first (+faststart): moov right after ftyp.
ff -f lavfi -i "color=c=blue:s=854x480:r=25" -frames:v 2 -c:v libx264 -pix_fmt yuv420p -movflags +faststart landscape-480p.mp4
# No faststart, and incompressible frames: mdat first, moov past the first 64 KiB.
ff -f lavfi -i "nullsrc=s=192x144:r=25,geq=random(1)*255:128:128" -frames:v 2 -c:v libx264 -preset ultrafast -qp 0 \
   -pix_fmt yuv420p moov-at-end-144p.mp4
# A phone's portrait video: stored 640x360 with a quarter-turn display matrix (the rotate tag, set on a copy).
ff -f lavfi -i "color=c=red:s=640x360:r=25" -frames:v 2 -c:v libx264 -pix_fmt yuv420p unrotated.tmp.mp4
ff -i unrotated.tmp.mp4 -c copy -metadata:s:v:0 rotate=90 portrait-rotated.mp4
rm unrotated.tmp.mp4
# PAL widescreen-ish: 720x576 pixels shown 768x576 (pixel aspect 16:15).
ff -f lavfi -i "color=c=green:s=720x576:r=25" -vf setsar=16/15 -frames:v 2 -c:v libx264 -pix_fmt yuv420p anamorphic-576p.mp4
ff -f lavfi -i "color=c=green:s=720x576:r=25" -vf setsar=16/15 -frames:v 2 -c:v libx264 -pix_fmt yuv420p anamorphic-576p.mkv
ff -f lavfi -i "color=c=green:s=1280x720:r=25" -frames:v 2 -c:v libx264 -pix_fmt yuv420p quicktime-720p.mov
ff -f lavfi -i "color=c=white:s=1280x720:r=25" -frames:v 2 -c:v libx264 -pix_fmt yuv420p matroska-720p.mkv
ff -f lavfi -i "color=c=white:s=640x360:r=25" -frames:v 2 -c:v libvpx -f webm webm-360p.webm
# As a browser records: a Segment of unknown size.
ff -f lavfi -i "color=c=white:s=426x240:r=25" -frames:v 2 -c:v libvpx -f webm -live 1 live-240p.webm
# The other containers the conversion accepts, known by their first bytes only: the first 4 KiB of each.
head4k() { head -c 4096 "$1.tmp" > "$1"; rm "$1.tmp"; }
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -f avi start-of.avi.tmp && head4k start-of.avi
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -f mpegts start-of.ts.tmp && head4k start-of.ts
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -f mpegts -mpegts_m2ts_mode 1 start-of.m2ts.tmp && head4k start-of.m2ts
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -f mpeg start-of.mpg.tmp && head4k start-of.mpg
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -f flv start-of.flv.tmp && head4k start-of.flv
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -f asf start-of.wmv.tmp && head4k start-of.wmv
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -f ogg start-of.ogv.tmp && head4k start-of.ogv
ff -f lavfi -i "testsrc=s=160x90:r=25" -t 0.2 -c:v mpeg2video -f mxf start-of.mxf.tmp && head4k start-of.mxf
ff -f lavfi -i "testsrc=s=720x480:r=30000/1001" -t 0.1 -pix_fmt yuv411p -f dv start-of.dv.tmp && head4k start-of.dv

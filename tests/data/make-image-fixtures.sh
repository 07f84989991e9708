#!/bin/sh
# Makes the image fixtures of tests/test_image.c with ImageMagick (an encoder independent of cpose's):
#   cmyk.jpg  32x8, four 8x8 blocks rgb(255,0,0) rgb(30,120,200) rgb(250,240,10) rgb(20,20,20) converted to
#             CMYK (ImageMagick writes Photoshop-style inverted CMYK with an Adobe marker), quality 100, 4:4:4.
# The test's expected colors were read back with `convert cmyk.jpg -colorspace sRGB` (cpose agrees within 1).
set -eu
cd "$(dirname "$0")"
convert -size 8x8 'xc:rgb(255,0,0)' 'xc:rgb(30,120,200)' 'xc:rgb(250,240,10)' 'xc:rgb(20,20,20)' +append \
  -colorspace CMYK -sampling-factor 1x1 -quality 100 cmyk.jpg

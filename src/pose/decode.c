/* pose_decode: the decoder chosen by cpose_decoder. */
#include "pose/pose.h"

void pose_decode(const pose_maps *maps, cpose_decoder decoder, pose_joint *joints) {
  switch (decoder) {
  case CPOSE_DECODER_ARGMAX:
    pose_decode_argmax(maps, joints);
    break;
  case CPOSE_DECODER_INTEGRAL:
    pose_decode_integral(maps, joints);
    break;
  case CPOSE_DECODER_MOVENET:
  default: /* callers check the value first (pose_net_estimate does); MoveNet's is the default decoder */
    pose_decode_movenet(maps, joints);
    break;
  }
}

#include <vector>

#include "common/parallel.h"
#include "ik/ik.h"

namespace mimiclab {

template <typename T>
void ik_solve_cpu(const IkTree<T>& tree, const IkTargets<T>& tg, const IkParams<T>& prm,
                  int64_t num_clips, int32_t num_frames, const T* init_root_pos,
                  const T* init_root_quat, const T* init_joint_pos, const T* posture,
                  const IkOutputs<T>& out, int num_threads) {
  const int64_t ws = ik_workspace_size(tree.fk.num_bodies, tree.num_joints, tg.num_targets);
  // Clips are independent: each thread owns one workspace and a contiguous range of clips.
  // A clip of many frames is plenty of work, so do not apply the per-item thread threshold then.
  const int threads = num_frames > 1 && num_threads <= 0
                          ? resolve_num_threads(0, num_clips * 256)
                          : num_threads;
  parallel_for(num_clips, threads, [&](int64_t begin, int64_t end) {
    std::vector<T> workspace(static_cast<size_t>(ws));
    for (int64_t c = begin; c < end; ++c)
      ik_solve_clip(tree, tg, prm, c, num_frames, init_root_pos, init_root_quat, init_joint_pos,
                    posture, out, workspace.data());
  });
}

#define MIMICLAB_INSTANTIATE_IK_CPU(T)                                                         \
  template void ik_solve_cpu<T>(const IkTree<T>&, const IkTargets<T>&, const IkParams<T>&,    \
                                int64_t, int32_t, const T*, const T*, const T*, const T*,     \
                                const IkOutputs<T>&, int);
MIMICLAB_INSTANTIATE_IK_CPU(float)
MIMICLAB_INSTANTIATE_IK_CPU(double)

}  // namespace mimiclab

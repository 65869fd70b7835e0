// CUDA retargeting IK: one thread per clip (frames of a clip in order), workspace in global memory.
#include <cuda_runtime.h>

#include "ik/ik.h"

namespace mimiclab {

template <typename T>
__global__ void ik_kernel(IkTree<T> tree, IkTargets<T> tg, IkParams<T> prm, int64_t num_clips,
                          int32_t num_frames, const T* init_root_pos, const T* init_root_quat,
                          const T* init_joint_pos, const T* posture, IkOutputs<T> out,
                          T* workspace, int64_t workspace_size) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= num_clips) return;
  ik_solve_clip(tree, tg, prm, c, num_frames, init_root_pos, init_root_quat, init_joint_pos,
                posture, out, workspace + c * workspace_size);
}

template <typename T>
int ik_solve_cuda(const IkTree<T>& tree, const IkTargets<T>& tg, const IkParams<T>& prm,
                  int64_t num_clips, int32_t num_frames, const T* init_root_pos,
                  const T* init_root_quat, const T* init_joint_pos, const T* posture,
                  const IkOutputs<T>& out, T* workspace) {
  if (num_clips <= 0) return 0;
  const int64_t ws = ik_workspace_size(tree.fk.num_bodies, tree.num_joints, tg.num_targets);
  constexpr int kThreads = 64;
  const int64_t blocks = (num_clips + kThreads - 1) / kThreads;
  ik_kernel<T><<<static_cast<unsigned>(blocks), kThreads>>>(
      tree, tg, prm, num_clips, num_frames, init_root_pos, init_root_quat, init_joint_pos, posture,
      out, workspace, ws);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  return static_cast<int>(err);
}

#define MIMICLAB_INSTANTIATE_IK_CUDA(T)                                                        \
  template int ik_solve_cuda<T>(const IkTree<T>&, const IkTargets<T>&, const IkParams<T>&,    \
                                int64_t, int32_t, const T*, const T*, const T*, const T*,     \
                                const IkOutputs<T>&, T*);
MIMICLAB_INSTANTIATE_IK_CUDA(float)
MIMICLAB_INSTANTIATE_IK_CUDA(double)

}  // namespace mimiclab

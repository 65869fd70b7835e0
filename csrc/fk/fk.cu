// CUDA forward kinematics: one thread per batch item, the tree walked in topological order.
#include <cuda_runtime.h>

#include "fk/fk.h"

namespace mimiclab {

template <typename T>
__global__ void fk_kernel(FkTree<T> tree, int64_t batch, int32_t num_joints, const T* root_pos,
                          const T* root_quat, const T* joint_pos, T* body_pos, T* body_quat) {
  const int64_t n = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n >= batch) return;
  fk_item(tree, n, num_joints, root_pos, root_quat, joint_pos, body_pos, body_quat);
}

template <typename T>
int fk_forward_cuda(const FkTree<T>& tree, int64_t batch, int32_t num_joints, const T* root_pos,
                    const T* root_quat, const T* joint_pos, T* body_pos, T* body_quat) {
  if (batch <= 0) return 0;
  constexpr int kThreads = 128;
  const int64_t blocks = (batch + kThreads - 1) / kThreads;
  fk_kernel<T><<<static_cast<unsigned>(blocks), kThreads>>>(tree, batch, num_joints, root_pos,
                                                           root_quat, joint_pos, body_pos, body_quat);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaDeviceSynchronize();
  return static_cast<int>(err);
}

template int fk_forward_cuda<float>(const FkTree<float>&, int64_t, int32_t, const float*,
                                    const float*, const float*, float*, float*);
template int fk_forward_cuda<double>(const FkTree<double>&, int64_t, int32_t, const double*,
                                     const double*, const double*, double*, double*);

}  // namespace mimiclab

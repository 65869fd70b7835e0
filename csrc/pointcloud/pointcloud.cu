// CUDA point-cloud terms: one warp per item (an env for the distance, an (env, query) pair for the
// nearest point); its 32 lanes stride over the P points and combine with warp shuffles. At 4096 envs
// x 1024 points that is 131k threads of 32 points each, and no shared memory or block barriers.
#include <cuda_runtime.h>

#include <cmath>

#include "pointcloud/pointcloud.h"

namespace mimiclab {

namespace {

constexpr int kWarpSize = 32;
constexpr int kWarpsPerBlock = 4;
constexpr unsigned kFullMask = 0xffffffffu;

template <typename T>
__global__ void distance_kernel(int64_t num_envs, int64_t num_points, const T* points,
                                int64_t points_env_stride, const T* current_pose,
                                const T* reference_pose, T lam, T* distance, T* reward) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  if (n >= num_envs) return;  // n is uniform across the warp: whole warps leave together
  const PoseOffset<T> o = pose_offset(current_pose + n * 7, reference_pose + n * 7);
  const T* cloud = points + n * points_env_stride;
  T sum = 0;
  for (int64_t p = lane; p < num_points; p += kWarpSize)
    sum += offset_norm(o, cloud[p * 3], cloud[p * 3 + 1], cloud[p * 3 + 2]);
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    sum += __shfl_down_sync(kFullMask, sum, offset);
  if (lane == 0) {
    const T d = sum / static_cast<T>(num_points);
    distance[n] = d;
    reward[n] = std::exp(-lam * d);
  }
}

template <typename T>
__global__ void nearest_kernel(int64_t num_envs, int64_t num_points, int64_t num_queries,
                               const T* points, int64_t points_env_stride, const T* pose,
                               const T* query, T* distance, int64_t* index) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t item = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  if (item >= num_envs * num_queries) return;  // uniform across the warp
  const int64_t n = item / num_queries;
  T rot[9];
  quat_to_matrix(pose + n * 7 + 3, rot);
  T q_local[3];
  world_to_object(rot, pose + n * 7, query + item * 3, q_local);
  const T* cloud = points + n * points_env_stride;

  // Each lane scans p = lane, lane + 32, ... upwards (lanes beyond P take point 0 as well).
  int64_t best_p = lane < num_points ? lane : 0;
  T best = squared_distance(cloud + best_p * 3, q_local);
  for (int64_t p = best_p + kWarpSize; p < num_points; p += kWarpSize) {
    const T d2 = squared_distance(cloud + p * 3, q_local);
    if (d2 < best) {
      best = d2;
      best_p = p;
    }
  }
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    const T other = __shfl_down_sync(kFullMask, best, offset);
    const int64_t other_p = __shfl_down_sync(kFullMask, best_p, offset);
    if (is_closer(other, other_p, best, best_p)) {
      best = other;
      best_p = other_p;
    }
  }
  if (lane == 0) {
    distance[item] = std::sqrt(best);
    index[item] = best_p;
  }
}

unsigned num_blocks(int64_t items) {
  return static_cast<unsigned>((items + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

}  // namespace

template <typename T>
int pointcloud_distance_cuda(int64_t num_envs, int64_t num_points, const T* points,
                             int64_t points_env_stride, const T* current_pose,
                             const T* reference_pose, T lam, T* distance, T* reward,
                             uintptr_t stream) {
  if (num_envs <= 0) return 0;
  distance_kernel<T><<<num_blocks(num_envs), kWarpsPerBlock * kWarpSize, 0,
                       reinterpret_cast<cudaStream_t>(stream)>>>(
      num_envs, num_points, points, points_env_stride, current_pose, reference_pose, lam, distance,
      reward);
  return static_cast<int>(cudaGetLastError());
}

template <typename T>
int pointcloud_nearest_cuda(int64_t num_envs, int64_t num_points, int64_t num_queries,
                            const T* points, int64_t points_env_stride, const T* pose,
                            const T* query, T* distance, int64_t* index, uintptr_t stream) {
  if (num_envs <= 0 || num_queries <= 0) return 0;
  nearest_kernel<T><<<num_blocks(num_envs * num_queries), kWarpsPerBlock * kWarpSize, 0,
                      reinterpret_cast<cudaStream_t>(stream)>>>(
      num_envs, num_points, num_queries, points, points_env_stride, pose, query, distance, index);
  return static_cast<int>(cudaGetLastError());
}

template int pointcloud_distance_cuda<float>(int64_t, int64_t, const float*, int64_t, const float*,
                                             const float*, float, float*, float*, uintptr_t);
template int pointcloud_distance_cuda<double>(int64_t, int64_t, const double*, int64_t,
                                              const double*, const double*, double, double*,
                                              double*, uintptr_t);
template int pointcloud_nearest_cuda<float>(int64_t, int64_t, int64_t, const float*, int64_t,
                                            const float*, const float*, float*, int64_t*,
                                            uintptr_t);
template int pointcloud_nearest_cuda<double>(int64_t, int64_t, int64_t, const double*, int64_t,
                                             const double*, const double*, double*, int64_t*,
                                             uintptr_t);

}  // namespace mimiclab

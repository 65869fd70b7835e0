// Point-cloud object terms for residual loco-manipulation (N envs, P surface points, K queries).
//
// Inputs:
//   points (P,3) canonical object surface points in the object frame [m], shared by all envs,
//          or (N,P,3) one cloud per env. points_env_stride is 0 (shared) or P*3 (per env).
//   pose   (N,7) object pose in the world: position [m] then unit quaternion (w, x, y, z).
//   query  (N,K,3) query points in the world [m] (bodies, hands).
// Terms:
//   distance: D[n] = mean_p |T_cur x_p - T_ref x_p| [m], reward[n] = exp(-lam D[n]).
//   nearest:  dist[n,k] = min_p |q_nk - T x_p| [m], index[n,k] = the minimising p (lowest on ties).
//
// Both terms are evaluated without posing the cloud twice:
//   T_cur x - T_ref x = (R_cur - R_ref) x + (t_cur - t_ref)   (one 3x3 affine map per env), and
//   |q - (R x + t)| = |R^T (q - t) - x|                       (the query moved into the object frame).
#pragma once

#include <cstdint>

#include "common/quat.h"

namespace mimiclab {

// Row-major rotation matrix of the unit quaternion q (w, x, y, z).
template <typename T>
MIMICLAB_HD void quat_to_matrix(const T* q, T* m) {
  const T w = q[0], x = q[1], y = q[2], z = q[3];
  m[0] = T(1) - T(2) * (y * y + z * z);
  m[1] = T(2) * (x * y - w * z);
  m[2] = T(2) * (x * z + w * y);
  m[3] = T(2) * (x * y + w * z);
  m[4] = T(1) - T(2) * (x * x + z * z);
  m[5] = T(2) * (y * z - w * x);
  m[6] = T(2) * (x * z - w * y);
  m[7] = T(2) * (y * z + w * x);
  m[8] = T(1) - T(2) * (x * x + y * y);
}

// The affine map x -> a x + b giving the offset T_cur x - T_ref x of an object-frame point.
template <typename T>
struct PoseOffset {
  T a[9];  // R_cur - R_ref, row-major
  T b[3];  // t_cur - t_ref [m]
};

// cur, ref: 7 values each (position, quaternion wxyz).
template <typename T>
MIMICLAB_HD PoseOffset<T> pose_offset(const T* cur, const T* ref) {
  PoseOffset<T> o;
  T r_cur[9], r_ref[9];
  quat_to_matrix(cur + 3, r_cur);
  quat_to_matrix(ref + 3, r_ref);
  for (int i = 0; i < 9; ++i) o.a[i] = r_cur[i] - r_ref[i];
  for (int i = 0; i < 3; ++i) o.b[i] = cur[i] - ref[i];
  return o;
}

// |a p + b|: the distance [m] between object point p = (x, y, z) under the two poses.
template <typename T>
MIMICLAB_HD T offset_norm(const PoseOffset<T>& o, T x, T y, T z) {
  const T dx = o.a[0] * x + o.a[1] * y + o.a[2] * z + o.b[0];
  const T dy = o.a[3] * x + o.a[4] * y + o.a[5] * z + o.b[1];
  const T dz = o.a[6] * x + o.a[7] * y + o.a[8] * z + o.b[2];
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

// Query q (world) expressed in the object frame: R^T (q - t), with R row-major and t [m].
template <typename T>
MIMICLAB_HD void world_to_object(const T* rot, const T* t, const T* q, T* out) {
  const T d0 = q[0] - t[0], d1 = q[1] - t[1], d2 = q[2] - t[2];
  out[0] = rot[0] * d0 + rot[3] * d1 + rot[6] * d2;
  out[1] = rot[1] * d0 + rot[4] * d1 + rot[7] * d2;
  out[2] = rot[2] * d0 + rot[5] * d1 + rot[8] * d2;
}

template <typename T>
MIMICLAB_HD T squared_distance(const T* a, const T* b) {
  const T d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
  return d0 * d0 + d1 * d1 + d2 * d2;
}

// Strict order on (squared distance, index): equal distances go to the lower index.
template <typename T>
MIMICLAB_HD bool is_closer(T d2, int64_t index, T best_d2, int64_t best_index) {
  return d2 < best_d2 || (d2 == best_d2 && index < best_index);
}

// Nearest of `num_points` object-frame points to the object-frame query q_local.
template <typename T>
MIMICLAB_HD void nearest_point(const T* points, int64_t num_points, const T* q_local, T* best_d2,
                               int64_t* best_index) {
  T best = squared_distance(points, q_local);
  int64_t best_p = 0;
  for (int64_t p = 1; p < num_points; ++p) {
    const T d2 = squared_distance(points + p * 3, q_local);
    if (d2 < best) {  // scanning upwards, strict < keeps the lowest index on ties
      best = d2;
      best_p = p;
    }
  }
  *best_d2 = best;
  *best_index = best_p;
}

// ---- entry points (N = num_envs; buffers contiguous as documented above) -----------------------

// CPU: envs split into contiguous chunks over `num_threads` threads (<= 0: all hardware threads).
template <typename T>
void pointcloud_distance_cpu(int64_t num_envs, int64_t num_points, const T* points,
                             int64_t points_env_stride, const T* current_pose,
                             const T* reference_pose, T lam, T* distance, T* reward,
                             int num_threads);

template <typename T>
void pointcloud_nearest_cpu(int64_t num_envs, int64_t num_points, int64_t num_queries,
                            const T* points, int64_t points_env_stride, const T* pose,
                            const T* query, T* distance, int64_t* index, int num_threads);

// CUDA: device pointers, launched on `stream` (a cudaStream_t as an integer, 0 = legacy default).
// Returns a cudaError_t as int (0 = success); the launch is asynchronous.
template <typename T>
int pointcloud_distance_cuda(int64_t num_envs, int64_t num_points, const T* points,
                             int64_t points_env_stride, const T* current_pose,
                             const T* reference_pose, T lam, T* distance, T* reward,
                             uintptr_t stream);

template <typename T>
int pointcloud_nearest_cuda(int64_t num_envs, int64_t num_points, int64_t num_queries,
                            const T* points, int64_t points_env_stride, const T* pose,
                            const T* query, T* distance, int64_t* index, uintptr_t stream);

}  // namespace mimiclab

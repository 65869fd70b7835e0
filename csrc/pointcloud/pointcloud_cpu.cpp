// CPU point-cloud terms: envs split over threads; each env is computed by one thread, in a fixed
// order, so results are bitwise identical for every thread count.
#include <cmath>
#include <vector>

#include "common/parallel.h"
#include "pointcloud/pointcloud.h"

namespace mimiclab {

namespace {

constexpr int kLanes = 8;  // independent partial sums: short dependency chains, SIMD-friendly

// One cloud (P,3) as three rows x, y, z (P each): unit-stride loads for the vectoriser.
template <typename T>
void transpose_cloud(const T* points, int64_t num_points, T* rows) {
  for (int64_t p = 0; p < num_points; ++p)
    for (int k = 0; k < 3; ++k) rows[k * num_points + p] = points[p * 3 + k];
}

// mean_p |a x_p + b| over one cloud given as rows (3, P).
template <typename T>
T mean_offset_norm(const PoseOffset<T>& o, const T* rows, int64_t num_points) {
  const T* x = rows;
  const T* y = rows + num_points;
  const T* z = rows + 2 * num_points;
  T lane_sum[kLanes] = {};
  int64_t p = 0;
  for (; p + kLanes <= num_points; p += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_sum[l] += offset_norm(o, x[p + l], y[p + l], z[p + l]);
  for (int l = 0; p < num_points; ++p, ++l) lane_sum[l] += offset_norm(o, x[p], y[p], z[p]);
  T total = 0;
  for (int l = 0; l < kLanes; ++l) total += lane_sum[l];
  return total / static_cast<T>(num_points);
}

}  // namespace

template <typename T>
void pointcloud_distance_cpu(int64_t num_envs, int64_t num_points, const T* points,
                             int64_t points_env_stride, const T* current_pose,
                             const T* reference_pose, T lam, T* distance, T* reward,
                             int num_threads) {
  parallel_for(num_envs, num_threads, [&](int64_t begin, int64_t end) {
    std::vector<T> rows(3 * num_points);
    if (points_env_stride == 0) transpose_cloud(points, num_points, rows.data());  // shared cloud
    for (int64_t n = begin; n < end; ++n) {
      if (points_env_stride != 0)
        transpose_cloud(points + n * points_env_stride, num_points, rows.data());
      const PoseOffset<T> o = pose_offset(current_pose + n * 7, reference_pose + n * 7);
      const T d = mean_offset_norm(o, rows.data(), num_points);
      distance[n] = d;
      reward[n] = std::exp(-lam * d);
    }
  });
}

template <typename T>
void pointcloud_nearest_cpu(int64_t num_envs, int64_t num_points, int64_t num_queries,
                            const T* points, int64_t points_env_stride, const T* pose,
                            const T* query, T* distance, int64_t* index, int num_threads) {
  parallel_for(num_envs, num_threads, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      T rot[9];
      quat_to_matrix(pose + n * 7 + 3, rot);
      const T* cloud = points + n * points_env_stride;
      for (int64_t k = 0; k < num_queries; ++k) {
        const int64_t nk = n * num_queries + k;
        T q_local[3];
        world_to_object(rot, pose + n * 7, query + nk * 3, q_local);
        T best_d2;
        nearest_point(cloud, num_points, q_local, &best_d2, index + nk);
        distance[nk] = std::sqrt(best_d2);
      }
    }
  });
}

template void pointcloud_distance_cpu<float>(int64_t, int64_t, const float*, int64_t, const float*,
                                             const float*, float, float*, float*, int);
template void pointcloud_distance_cpu<double>(int64_t, int64_t, const double*, int64_t,
                                              const double*, const double*, double, double*,
                                              double*, int);
template void pointcloud_nearest_cpu<float>(int64_t, int64_t, int64_t, const float*, int64_t,
                                            const float*, const float*, float*, int64_t*, int);
template void pointcloud_nearest_cpu<double>(int64_t, int64_t, int64_t, const double*, int64_t,
                                             const double*, const double*, double*, int64_t*,
                                             int);

}  // namespace mimiclab

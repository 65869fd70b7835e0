// Parses and validates the Python-side arguments of the point-cloud terms for either backend.
#pragma once

#include <string>
#include <vector>

#include "common/buffer.h"
#include "pointcloud/pointcloud.h"

namespace mimiclab {

// points: (P,3) shared or (N,P,3) per env; sets num_points and the per-env stride.
struct CloudShape {
  int64_t num_points = 0;
  int64_t env_stride = 0;
};

inline CloudShape check_cloud(const Buffer& points, int64_t num_envs) {
  CloudShape c;
  if (points.shape.size() == 2) {
    check_shape(points, {-1, 3});
    c.num_points = points.dim(0);
  } else {
    check_shape(points, {num_envs, -1, 3});
    c.num_points = points.dim(1);
    c.env_stride = c.num_points * 3;
  }
  if (c.num_points < 1)
    throw std::invalid_argument(points.name + ": the object cloud needs at least one point, got " +
                                points.shape_str());
  return c;
}

inline std::string check_float_dtypes(const std::vector<const Buffer*>& buffers) {
  const std::string dtype = buffers.front()->dtype;
  if (dtype != "float32" && dtype != "float64")
    throw std::invalid_argument(buffers.front()->name + ": expected dtype float32 or float64, got " +
                                dtype);
  for (const Buffer* b : buffers) check_dtype(*b, dtype);
  return dtype;
}

struct DistanceArgs {
  Buffer points, current_pose, reference_pose, distance, reward;
  int64_t num_envs = 0;
  CloudShape cloud;
  std::string dtype;

  std::vector<const Buffer*> all() const {
    return {&points, &current_pose, &reference_pose, &distance, &reward};
  }
};

// distance, reward: (N,) outputs.
inline DistanceArgs parse_distance_args(const py::handle& points, const py::handle& current_pose,
                                        const py::handle& reference_pose,
                                        const py::handle& distance, const py::handle& reward,
                                        const std::string& device_prefix) {
  DistanceArgs a;
  a.points = parse_buffer("object_points", points);
  a.current_pose = parse_buffer("current_pose", current_pose);
  a.reference_pose = parse_buffer("reference_pose", reference_pose);
  a.distance = parse_buffer("distance", distance);
  a.reward = parse_buffer("reward", reward);

  check_shape(a.current_pose, {-1, 7});
  a.num_envs = a.current_pose.dim(0);
  check_shape(a.reference_pose, {a.num_envs, 7});
  a.cloud = check_cloud(a.points, a.num_envs);
  check_shape(a.distance, {a.num_envs});
  check_shape(a.reward, {a.num_envs});
  a.dtype = check_float_dtypes({&a.current_pose, &a.reference_pose, &a.points, &a.distance,
                                &a.reward});
  for (const Buffer* b : a.all()) check_device_prefix(*b, device_prefix);
  return a;
}

struct NearestArgs {
  Buffer points, pose, query, distance, index;
  int64_t num_envs = 0, num_queries = 0;
  CloudShape cloud;
  std::string dtype;

  std::vector<const Buffer*> all() const { return {&points, &pose, &query, &distance, &index}; }
};

// query: (N,K,3); distance: (N,K) outputs in the float dtype; index: (N,K) int64 output.
inline NearestArgs parse_nearest_args(const py::handle& points, const py::handle& pose,
                                      const py::handle& query, const py::handle& distance,
                                      const py::handle& index, const std::string& device_prefix) {
  NearestArgs a;
  a.points = parse_buffer("object_points", points);
  a.pose = parse_buffer("pose", pose);
  a.query = parse_buffer("query_points", query);
  a.distance = parse_buffer("distance", distance);
  a.index = parse_buffer("index", index);

  check_shape(a.pose, {-1, 7});
  a.num_envs = a.pose.dim(0);
  a.cloud = check_cloud(a.points, a.num_envs);
  check_shape(a.query, {a.num_envs, -1, 3});
  a.num_queries = a.query.dim(1);
  check_shape(a.distance, {a.num_envs, a.num_queries});
  check_shape(a.index, {a.num_envs, a.num_queries});
  a.dtype = check_float_dtypes({&a.pose, &a.points, &a.query, &a.distance});
  check_dtype(a.index, "int64");
  for (const Buffer* b : a.all()) check_device_prefix(*b, device_prefix);
  return a;
}

}  // namespace mimiclab

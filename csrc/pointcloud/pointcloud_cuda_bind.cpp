// Python bindings of the CUDA point-cloud terms (registered into mimiclab._C_cuda). Kernels are
// launched asynchronously on the caller's stream (torch's current stream, passed as an integer).
#include "common/bind.h"
#include "common/cuda_check.h"
#include "pointcloud/pointcloud_args.h"

namespace mimiclab {

namespace {

void pointcloud_distance(const py::handle& points, const py::handle& current_pose,
                         const py::handle& reference_pose, const py::handle& distance,
                         const py::handle& reward, double lam, uintptr_t stream) {
  DistanceArgs a =
      parse_distance_args(points, current_pose, reference_pose, distance, reward, "cuda");
  for (const Buffer* b : a.all()) check_device_pointer(*b);
  int err;
  {
    py::gil_scoped_release release;
    if (a.dtype == "float32") {
      err = pointcloud_distance_cuda<float>(
          a.num_envs, a.cloud.num_points, a.points.data<float>(), a.cloud.env_stride,
          a.current_pose.data<float>(), a.reference_pose.data<float>(), static_cast<float>(lam),
          a.distance.data<float>(), a.reward.data<float>(), stream);
    } else {
      err = pointcloud_distance_cuda<double>(
          a.num_envs, a.cloud.num_points, a.points.data<double>(), a.cloud.env_stride,
          a.current_pose.data<double>(), a.reference_pose.data<double>(), lam,
          a.distance.data<double>(), a.reward.data<double>(), stream);
    }
  }
  check_cuda(err, "pointcloud_distance");
}

void pointcloud_nearest(const py::handle& points, const py::handle& pose, const py::handle& query,
                        const py::handle& distance, const py::handle& index, uintptr_t stream) {
  NearestArgs a = parse_nearest_args(points, pose, query, distance, index, "cuda");
  for (const Buffer* b : a.all()) check_device_pointer(*b);
  int err;
  {
    py::gil_scoped_release release;
    if (a.dtype == "float32") {
      err = pointcloud_nearest_cuda<float>(a.num_envs, a.cloud.num_points, a.num_queries,
                                           a.points.data<float>(), a.cloud.env_stride,
                                           a.pose.data<float>(), a.query.data<float>(),
                                           a.distance.data<float>(), a.index.data<int64_t>(),
                                           stream);
    } else {
      err = pointcloud_nearest_cuda<double>(a.num_envs, a.cloud.num_points, a.num_queries,
                                            a.points.data<double>(), a.cloud.env_stride,
                                            a.pose.data<double>(), a.query.data<double>(),
                                            a.distance.data<double>(), a.index.data<int64_t>(),
                                            stream);
    }
  }
  check_cuda(err, "pointcloud_nearest");
}

}  // namespace

void bind_pointcloud_cuda(py::module_& m) {
  m.def("pointcloud_distance", &pointcloud_distance, py::arg("object_points"),
        py::arg("current_pose"), py::arg("reference_pose"), py::arg("distance"), py::arg("reward"),
        py::arg("lam"), py::arg("stream") = 0,
        "Mean point-cloud correspondence distance on CUDA device buffers (asynchronous on stream).");
  m.def("pointcloud_nearest", &pointcloud_nearest, py::arg("object_points"), py::arg("pose"),
        py::arg("query_points"), py::arg("distance"), py::arg("index"), py::arg("stream") = 0,
        "Nearest posed cloud point per query on CUDA device buffers (asynchronous on stream).");
}

}  // namespace mimiclab

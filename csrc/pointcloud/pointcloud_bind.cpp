// Python bindings of the CPU point-cloud terms (registered into mimiclab._C by bindings.cpp).
#include "common/bind.h"
#include "pointcloud/pointcloud_args.h"

namespace mimiclab {

namespace {

void pointcloud_distance(const py::handle& points, const py::handle& current_pose,
                         const py::handle& reference_pose, const py::handle& distance,
                         const py::handle& reward, double lam, int num_threads) {
  DistanceArgs a = parse_distance_args(points, current_pose, reference_pose, distance, reward, "cpu");
  py::gil_scoped_release release;
  if (a.dtype == "float32") {
    pointcloud_distance_cpu<float>(a.num_envs, a.cloud.num_points, a.points.data<float>(),
                                   a.cloud.env_stride, a.current_pose.data<float>(),
                                   a.reference_pose.data<float>(), static_cast<float>(lam),
                                   a.distance.data<float>(), a.reward.data<float>(), num_threads);
  } else {
    pointcloud_distance_cpu<double>(a.num_envs, a.cloud.num_points, a.points.data<double>(),
                                    a.cloud.env_stride, a.current_pose.data<double>(),
                                    a.reference_pose.data<double>(), lam,
                                    a.distance.data<double>(), a.reward.data<double>(),
                                    num_threads);
  }
}

void pointcloud_nearest(const py::handle& points, const py::handle& pose, const py::handle& query,
                        const py::handle& distance, const py::handle& index, int num_threads) {
  NearestArgs a = parse_nearest_args(points, pose, query, distance, index, "cpu");
  py::gil_scoped_release release;
  if (a.dtype == "float32") {
    pointcloud_nearest_cpu<float>(a.num_envs, a.cloud.num_points, a.num_queries,
                                  a.points.data<float>(), a.cloud.env_stride, a.pose.data<float>(),
                                  a.query.data<float>(), a.distance.data<float>(),
                                  a.index.data<int64_t>(), num_threads);
  } else {
    pointcloud_nearest_cpu<double>(a.num_envs, a.cloud.num_points, a.num_queries,
                                   a.points.data<double>(), a.cloud.env_stride,
                                   a.pose.data<double>(), a.query.data<double>(),
                                   a.distance.data<double>(), a.index.data<int64_t>(),
                                   num_threads);
  }
}

}  // namespace

void bind_pointcloud(py::module_& m) {
  m.def("pointcloud_distance", &pointcloud_distance, py::arg("object_points"),
        py::arg("current_pose"), py::arg("reference_pose"), py::arg("distance"), py::arg("reward"),
        py::arg("lam"), py::arg("num_threads") = 0,
        "Mean point-cloud correspondence distance D (N,) and exp(-lam D) into preallocated buffers.");
  m.def("pointcloud_nearest", &pointcloud_nearest, py::arg("object_points"), py::arg("pose"),
        py::arg("query_points"), py::arg("distance"), py::arg("index"), py::arg("num_threads") = 0,
        "Distance (N,K) and index (N,K, int64) of the posed cloud point nearest to each query.");
}

}  // namespace mimiclab

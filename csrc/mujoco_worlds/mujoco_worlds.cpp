// mimiclab._C_mujoco: steps many MuJoCo C worlds (one mjModel/mjData each) in one call, on threads,
// and gathers their contacts — the hot loop of mimiclab.tasks.physics_mujoco_cpu.MuJoCoCSolver,
// whose Python loops (_step_worlds_python, _contacts_python) are the reference this is tested
// against. Worlds are independent, so threads split them; the GIL is released throughout.
//
// Arrays are Newton's MuJoCo-Warp data (float32, one row per world); MuJoCo's state is float64 and
// is kept between steps: qpos/qvel are written into a world only where `write` is set.
#include <mujoco/mujoco.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/parallel.h"

namespace py = pybind11;

namespace mimiclab {
namespace {

using F32 = py::array_t<float, py::array::c_style>;
using I32 = py::array_t<int32_t, py::array::c_style>;
using Bool = py::array_t<bool, py::array::c_style>;

struct Worlds {
  std::vector<const mjModel*> models;
  std::vector<mjData*> datas;
};

// The arrays are written in place, so they must already be C-contiguous of the exact dtype (a
// converted copy would swallow the results).
template <typename A>
A exact(const py::object& obj, const char* name) {
  if (!A::check_(obj))
    throw std::invalid_argument(std::string("mujoco worlds: ") + name +
                                " must be a C-contiguous numpy array of the expected dtype");
  return py::reinterpret_borrow<A>(obj);
}

Worlds parse_worlds(const std::vector<uintptr_t>& models, const std::vector<uintptr_t>& datas) {
  if (models.size() != datas.size() || models.empty())
    throw std::invalid_argument("mujoco worlds: need as many models as datas (and at least one), got " +
                                std::to_string(models.size()) + " and " + std::to_string(datas.size()));
  Worlds w;
  for (size_t i = 0; i < models.size(); ++i) {
    if (!models[i] || !datas[i]) throw std::invalid_argument("mujoco worlds: null model or data address");
    w.models.push_back(reinterpret_cast<const mjModel*>(models[i]));
    w.datas.push_back(reinterpret_cast<mjData*>(datas[i]));
  }
  const mjModel* m0 = w.models[0];
  for (const mjModel* m : w.models)
    if (m->nq != m0->nq || m->nv != m0->nv || m->nu != m0->nu || m->nbody != m0->nbody || m->ngeom != m0->ngeom)
      throw std::invalid_argument("mujoco worlds: the models differ in size (nq/nv/nu/nbody/ngeom)");
  return w;
}

float* rows(const py::object& obj, const char* name, int64_t nworld, int64_t width) {
  F32 a = exact<F32>(obj, name);
  if (a.ndim() < 1 || a.shape(0) != nworld || a.size() != nworld * width)
    throw std::invalid_argument(std::string("mujoco worlds: ") + name + " must hold " + std::to_string(nworld) +
                                " rows of " + std::to_string(width) + " float32, got " +
                                std::to_string(a.size()) + " values");
  return a.mutable_data();
}

template <typename Dst, typename Src>
inline void copy_n(Dst* dst, const Src* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(src[i]);
}

// One physics step of every world: controls and applied forces in, (qpos, qvel) written where
// `write` is set, mj_step, (qpos, qvel) and optionally qfrc_actuator out.
void step_worlds(const std::vector<uintptr_t>& model_addrs, const std::vector<uintptr_t>& data_addrs, py::object ctrl,
                 py::object qfrc_applied, py::object xfrc_applied, py::object qpos, py::object qvel,
                 py::object write_obj, double timestep,
                 py::object qfrc_actuator, int num_threads) {
  Worlds w = parse_worlds(model_addrs, data_addrs);
  const int64_t n = static_cast<int64_t>(w.models.size());
  const mjModel* m0 = w.models[0];
  const int64_t nq = m0->nq, nv = m0->nv, nu = m0->nu, nb = m0->nbody;
  float* c = rows(ctrl, "ctrl", n, nu);
  float* qf = rows(qfrc_applied, "qfrc_applied", n, nv);
  float* xf = rows(xfrc_applied, "xfrc_applied", n, nb * 6);
  float* qp = rows(qpos, "qpos", n, nq);
  float* qv = rows(qvel, "qvel", n, nv);
  Bool write = exact<Bool>(write_obj, "write");
  if (write.size() != n) throw std::invalid_argument("mujoco worlds: write must hold one flag per world");
  const bool* wr = write.data();
  float* qa = qfrc_actuator.is_none() ? nullptr : rows(qfrc_actuator, "qfrc_actuator", n, nv);
  if (!(timestep > 0)) throw std::invalid_argument("mujoco worlds: timestep must be positive");
  py::gil_scoped_release release;
  parallel_for(n, num_threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      mjModel* m = const_cast<mjModel*>(w.models[i]);
      mjData* d = w.datas[i];
      if (wr[i]) {
        copy_n(d->qpos, qp + i * nq, nq);
        copy_n(d->qvel, qv + i * nv, nv);
      }
      copy_n(d->ctrl, c + i * nu, nu);
      copy_n(d->qfrc_applied, qf + i * nv, nv);
      copy_n(d->xfrc_applied, xf + i * nb * 6, nb * 6);
      m->opt.timestep = timestep;
      mj_step(m, d);
      copy_n(qp + i * nq, d->qpos, nq);
      copy_n(qv + i * nv, d->qvel, nv);
      if (qa) copy_n(qa + i * nv, d->qfrc_actuator, nv);
    }
  });
}

// Every world's contacts, in world order, as Newton's Contacts arrays want them: shapes (through
// geom_to_shape (W, ngeom)), normal (world), points in their bodies' frames (world for the world
// body), 6-D force:torque on shape 0 in the world frame (minus mj_contactForce rotated to world).
// Returns the number of contacts; refuses more than the arrays hold.
int gather_contacts(const std::vector<uintptr_t>& model_addrs, const std::vector<uintptr_t>& data_addrs,
                    py::object geom_to_shape_obj, py::object shape0_obj, py::object shape1_obj,
                    py::object normal_obj, py::object point0_obj, py::object point1_obj, py::object force) {
  I32 geom_to_shape = exact<I32>(geom_to_shape_obj, "geom_to_shape");
  I32 shape0 = exact<I32>(shape0_obj, "shape0"), shape1 = exact<I32>(shape1_obj, "shape1");
  F32 normal = exact<F32>(normal_obj, "normal"), point0 = exact<F32>(point0_obj, "point0");
  F32 point1 = exact<F32>(point1_obj, "point1");
  Worlds w = parse_worlds(model_addrs, data_addrs);
  const int64_t n = static_cast<int64_t>(w.models.size());
  const int64_t ngeom = w.models[0]->ngeom;
  if (geom_to_shape.ndim() != 2 || geom_to_shape.shape(0) != n || geom_to_shape.shape(1) != ngeom)
    throw std::invalid_argument("mujoco worlds: geom_to_shape must be (worlds, ngeom) int32");
  const int64_t cap = shape0.size();
  if (shape1.size() != cap || normal.size() != cap * 3 || point0.size() != cap * 3 || point1.size() != cap * 3)
    throw std::invalid_argument("mujoco worlds: contact arrays disagree in capacity");
  float* fo = nullptr;
  if (!force.is_none()) {
    F32 force_arr = exact<F32>(force, "force");
    if (force_arr.size() != cap * 6) throw std::invalid_argument("mujoco worlds: force must be (capacity, 6)");
    fo = force_arr.mutable_data();
  }
  int64_t total = 0;
  for (mjData* d : w.datas) total += d->ncon;
  if (total > cap)
    throw std::invalid_argument("MuJoCoCSolver: " + std::to_string(total) +
                                " contacts exceed rigid_contact_max=" + std::to_string(cap));
  const int32_t* g2s = geom_to_shape.data();
  int32_t* s0 = shape0.mutable_data();
  int32_t* s1 = shape1.mutable_data();
  float* nrm = normal.mutable_data();
  float* p0 = point0.mutable_data();
  float* p1 = point1.mutable_data();
  py::gil_scoped_release release;
  int64_t k = 0;
  for (int64_t wi = 0; wi < n; ++wi) {
    const mjModel* m = w.models[wi];
    mjData* d = w.datas[wi];
    for (int i = 0; i < d->ncon; ++i, ++k) {
      const mjContact& c = d->contact[i];
      s0[k] = g2s[wi * ngeom + c.geom[0]];
      s1[k] = g2s[wi * ngeom + c.geom[1]];
      const mjtNum* contact_normal = c.frame;  // first row of the contact frame
      for (int j = 0; j < 3; ++j) nrm[3 * k + j] = static_cast<float>(contact_normal[j]);
      for (int side = 0; side < 2; ++side) {
        const double sign = side == 0 ? -0.5 : 0.5;
        double p[3];
        for (int j = 0; j < 3; ++j) p[j] = c.pos[j] + sign * c.dist * contact_normal[j];
        const int body = m->geom_bodyid[c.geom[side]];
        float* out = (side == 0 ? p0 : p1) + 3 * k;
        if (body > 0) {
          const mjtNum* x = d->xpos + 3 * body;
          const mjtNum* r = d->xmat + 9 * body;  // row-major; local = R^T (p - x)
          const double dp[3] = {p[0] - x[0], p[1] - x[1], p[2] - x[2]};
          for (int j = 0; j < 3; ++j)
            out[j] = static_cast<float>(r[0 + j] * dp[0] + r[3 + j] * dp[1] + r[6 + j] * dp[2]);
        } else {
          for (int j = 0; j < 3; ++j) out[j] = static_cast<float>(p[j]);
        }
      }
      if (fo) {
        mjtNum f[6];
        mj_contactForce(m, d, i, f);
        for (int j = 0; j < 3; ++j) {
          const double fw = f[0] * c.frame[j] + f[1] * c.frame[3 + j] + f[2] * c.frame[6 + j];
          const double tw = f[3] * c.frame[j] + f[4] * c.frame[3 + j] + f[5] * c.frame[6 + j];
          fo[6 * k + j] = static_cast<float>(-fw);  // MuJoCo: force on geom 2; Newton: on shape 0
          fo[6 * k + 3 + j] = static_cast<float>(-tw);
        }
      }
    }
  }
  return static_cast<int>(k);
}

// Kinematics + collision of one model at many poses: qpos (T, nq) float64 rows, one at a time in
// `data`; returns the penetrating contacts (dist < 0) of every pose as (frame (N,) int32,
// geom (N,2) int32, dist (N,) float64, normal (N,3) float64, from geom 0 towards geom 1), in pose
// then MuJoCo contact order — mimiclab.retarget.robot_collisions' Python loop, without the loop.
py::tuple penetrating_contacts(uintptr_t model_addr, uintptr_t data_addr, py::object qpos_obj) {
  if (!model_addr || !data_addr) throw std::invalid_argument("penetrating contacts: null model or data address");
  const mjModel* m = reinterpret_cast<const mjModel*>(model_addr);
  mjData* d = reinterpret_cast<mjData*>(data_addr);
  using F64 = py::array_t<double, py::array::c_style>;
  F64 qpos = exact<F64>(qpos_obj, "qpos");
  if (qpos.ndim() != 2 || qpos.shape(1) != m->nq)
    throw std::invalid_argument("penetrating contacts: qpos must be (T, " + std::to_string(m->nq) + ") float64");
  const int64_t T = qpos.shape(0);
  const double* q = qpos.data();
  std::vector<int32_t> frame, geom;
  std::vector<double> dist, normal;
  {
    py::gil_scoped_release release;
    for (int64_t t = 0; t < T; ++t) {
      copy_n(d->qpos, q + t * m->nq, m->nq);
      mj_kinematics(m, d);
      mj_collision(m, d);
      for (int i = 0; i < d->ncon; ++i) {
        const mjContact& c = d->contact[i];
        if (!(c.dist < 0)) continue;
        frame.push_back(static_cast<int32_t>(t));
        geom.push_back(c.geom[0]);
        geom.push_back(c.geom[1]);
        dist.push_back(c.dist);
        normal.insert(normal.end(), c.frame, c.frame + 3);
      }
    }
  }
  const py::ssize_t n = static_cast<py::ssize_t>(frame.size());
  I32 f({n}), g({n, py::ssize_t(2)});
  F64 di({n}), no({n, py::ssize_t(3)});
  std::copy(frame.begin(), frame.end(), f.mutable_data());
  std::copy(geom.begin(), geom.end(), g.mutable_data());
  std::copy(dist.begin(), dist.end(), di.mutable_data());
  std::copy(normal.begin(), normal.end(), no.mutable_data());
  return py::make_tuple(f, g, di, no);
}

}  // namespace
}  // namespace mimiclab

PYBIND11_MODULE(_C_mujoco, m) {
  m.doc() = "mimiclab MuJoCo C world stepping (many mjModel/mjData per call, threads over worlds)";
  m.attr("__version__") = MIMICLAB_VERSION;
  m.attr("mujoco_version") = mj_versionString();
  m.def("step_worlds", &mimiclab::step_worlds, py::arg("models"), py::arg("datas"), py::arg("ctrl"),
        py::arg("qfrc_applied"), py::arg("xfrc_applied"), py::arg("qpos"), py::arg("qvel"), py::arg("write"),
        py::arg("timestep"), py::arg("qfrc_actuator") = py::none(), py::arg("num_threads") = 1,
        "One mj_step of every world (addresses of mjModel/mjData); float32 rows per world in and out.");
  m.def("gather_contacts", &mimiclab::gather_contacts, py::arg("models"), py::arg("datas"),
        py::arg("geom_to_shape"), py::arg("shape0"), py::arg("shape1"), py::arg("normal"), py::arg("point0"),
        py::arg("point1"), py::arg("force") = py::none(),
        "Every world's contacts into Newton's contact arrays; returns their number.");
  m.def("penetrating_contacts", &mimiclab::penetrating_contacts, py::arg("model"), py::arg("data"), py::arg("qpos"),
        "mj_kinematics + mj_collision at each qpos row (T, nq) float64; the contacts with dist < 0 as "
        "(frame (N,), geom (N,2), dist (N,), normal (N,3)).");
}

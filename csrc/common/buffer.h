// Raw buffer descriptors passed from Python: (data_ptr: int, shape: tuple, dtype: str, device: str).
// The Python front-end hands over contiguous tensors; this side checks every shape, dtype and device
// again so that a wrong call fails with a clear message instead of reading out of bounds.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mimiclab {

namespace py = pybind11;

struct Buffer {
  std::string name;
  uintptr_t ptr = 0;
  std::vector<int64_t> shape;
  std::string dtype;   // "float32" | "float64" | "int32"
  std::string device;  // "cpu" | "cuda:<i>"

  template <typename T>
  T* data() const { return reinterpret_cast<T*>(ptr); }
  int64_t dim(size_t i) const { return shape.at(i); }
  int64_t numel() const {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
  std::string shape_str() const {
    std::ostringstream os;
    os << "(";
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << (shape.size() == 1 ? ",)" : ")");
    return os.str();
  }
};

inline Buffer parse_buffer(const std::string& name, const py::handle& obj) {
  auto t = py::reinterpret_borrow<py::tuple>(obj);
  if (t.size() != 4) throw std::invalid_argument(name + ": expected (ptr, shape, dtype, device)");
  Buffer b;
  b.name = name;
  b.ptr = t[0].cast<uintptr_t>();
  for (auto s : t[1].cast<py::tuple>()) b.shape.push_back(s.cast<int64_t>());
  b.dtype = t[2].cast<std::string>();
  b.device = t[3].cast<std::string>();
  if (b.ptr == 0 && b.numel() > 0) throw std::invalid_argument(name + ": null data pointer");
  return b;
}

// Throws std::invalid_argument("<name>: expected shape (...), got (...)") on mismatch; -1 = any.
inline void check_shape(const Buffer& b, const std::vector<int64_t>& expected) {
  bool ok = b.shape.size() == expected.size();
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == b.shape[i];
  if (!ok) {
    Buffer e;
    e.shape = expected;
    throw std::invalid_argument(b.name + ": expected shape " + e.shape_str() + ", got " +
                                b.shape_str());
  }
}

inline void check_dtype(const Buffer& b, const std::string& dtype) {
  if (b.dtype != dtype)
    throw std::invalid_argument(b.name + ": expected dtype " + dtype + ", got " + b.dtype);
}

inline void check_device_prefix(const Buffer& b, const std::string& prefix) {
  if (b.device.rfind(prefix, 0) != 0)
    throw std::invalid_argument(b.name + ": expected a " + prefix + " buffer, got device " +
                                b.device);
}

}  // namespace mimiclab

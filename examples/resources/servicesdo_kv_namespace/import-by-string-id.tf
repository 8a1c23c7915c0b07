import {
  to = servicesdo_kv_namespace.sessions
  id = "0f2ac74b498b48028cb68387c421e279"
}

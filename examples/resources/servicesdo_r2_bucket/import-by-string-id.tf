import {
  to = servicesdo_r2_bucket.archive
  id = "eu/shop-archive"
}

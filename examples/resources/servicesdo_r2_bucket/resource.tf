resource "servicesdo_r2_bucket" "uploads" {
  name          = "shop-uploads"
  location_hint = "weur"
}

# EU-resident data, rarely read.
resource "servicesdo_r2_bucket" "archive" {
  name          = "shop-archive"
  jurisdiction  = "eu"
  storage_class = "InfrequentAccess"
}

# Import by name (default jurisdiction) or by <jurisdiction>/<name>.
terraform import servicesdo_r2_bucket.uploads shop-uploads
terraform import servicesdo_r2_bucket.archive eu/shop-archive

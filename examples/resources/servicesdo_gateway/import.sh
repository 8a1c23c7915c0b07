# Import by the gateway's name (the name of its Worker). API keys and the HS256 secret cannot be
# read back: set them again and bump auth.secrets_version on the next apply.
terraform import servicesdo_gateway.api api-gateway

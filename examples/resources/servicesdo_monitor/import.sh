# Import by the monitor's name (the name of its Worker). The tokens are write-only: set
# analytics_token_wo and status_token_wo (with their versions) in the configuration and apply
# once to send them again, or leave the deployed ones in place.
terraform import servicesdo_monitor.platform platform-monitor

"""`imagevet harden`: turn an audit's failing checks into an idempotent remediation, as a bash script,
a #cloud-config document or an Ansible playbook, all from the checks' structured remediation data."""

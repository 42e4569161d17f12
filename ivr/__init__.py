"""The auto-answer IVR: configuration, rendering for Asterisk, prompts and the AMI controller."""

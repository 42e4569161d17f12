"""The application floor: the composed configuration (nms.yaml and the files it names) and the district.

Only this package, ``nms.cli`` and the backup tools import every subsystem; see README "Architecture".
"""

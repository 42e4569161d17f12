"""NetBox as an inventory source, and the import of NetBox data into the inventory YAML file.

NetBox → our model:

* site: slug → ``id``, name → ``name``; category from a tag ``category-<category>`` (slug) or
  ``category:<category>`` (name), else the custom field ``category`` (English value or the
  district's Korean label); install year from the custom field ``installed``; street address from
  ``physical_address``; coordinates from ``latitude``/``longitude`` (both, or neither); subnets from
  the IPAM prefixes scoped to the site (``site`` up to NetBox 4.1, ``scope`` from 4.2 on).
* device: name (lower-cased) → ``name``; role slug → :class:`DeviceRole` via the mapping; primary IPv4
  (else IPv6) without its prefix length → ``address``; status ``active`` → active,
  ``planned``/``staged`` → planned, anything else → disabled. SNMP profile and credential set
  from the custom fields ``snmp_profile``/``snmp_credentials``, else tags
  ``snmp-profile:<name>``/``snmp-credentials:<name>``, else the mapping's defaults (per role;
  APs by manufacturer since their profile is vendor-specific).

Whatever cannot be mapped (no primary IP, unmapped role, no category, ...) is skipped and
listed in :attr:`NetBoxSource.skipped`, never dropped silently.

Modules: :mod:`.errors` (NetBox's and the transport's failures as one clear :class:`NetBoxError`),
:mod:`.mapping` (records → sites and devices), :mod:`.source` (the REST API reader, an inventory source
plugin) and :mod:`.command` (``nms inventory import-netbox``: compare with and write the inventory file).
"""

from nms.inventory.netbox.command import import_netbox, run_import_netbox
from nms.inventory.netbox.errors import NetBoxError
from nms.inventory.netbox.mapping import NetBoxMapping
from nms.inventory.netbox.source import NetBoxSource

__all__ = ["NetBoxError", "NetBoxMapping", "NetBoxSource", "import_netbox", "run_import_netbox"]

"""`make bench`: each figure is a ratio of the portal's time over the raw
primitive underneath, both measured side by side in the same run."""

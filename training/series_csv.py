"""Reading one daily series from a CSV file, for training (see ``inkcast.runtime.series_csv``).

The reader lives in the runtime (NumPy and the standard library only) because ``inkcast
forecast`` reads CSV files on devices without TensorFlow; training uses the very same code, so a
file is read identically in both places.
"""

from inkcast.runtime.series_csv import (DATE_FORMATS, DEFAULT_DATE_COLUMN, DEFAULT_VALUE_COLUMN,
                                        FILL_POLICIES, Series, read_series)

__all__ = ["DATE_FORMATS", "DEFAULT_DATE_COLUMN", "DEFAULT_VALUE_COLUMN", "FILL_POLICIES", "Series",
           "read_series"]

public enum FastCGIPlaceholder {}

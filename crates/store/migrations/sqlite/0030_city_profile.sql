-- The city's names as people read them (the platform, the regulator, in both languages), set
-- with the divisions from a configuration file; never written in the code.
CREATE TABLE city_profile (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name_zh TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 40),
    name_en TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 60),
    platform_zh TEXT NOT NULL CHECK (length(platform_zh) BETWEEN 1 AND 40),
    platform_en TEXT NOT NULL CHECK (length(platform_en) BETWEEN 1 AND 80),
    regulator_zh TEXT NOT NULL CHECK (length(regulator_zh) BETWEEN 1 AND 40),
    regulator_en TEXT NOT NULL CHECK (length(regulator_en) BETWEEN 1 AND 80)
);

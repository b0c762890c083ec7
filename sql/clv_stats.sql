-- Counts behind the CLV run's checks and warnings, from the BTYD summary `btyd`:
-- customers; one-time buyers (frequency 0: P(alive) = 1 under BG/NBD); repeat buyers;
-- repeat buyers without positive spend (left out of Gamma-Gamma); the mean spend and the
-- correlation between frequency and spend among the repeat buyers Gamma-Gamma is fitted
-- on (the model assumes them independent). No parameters.
SELECT
    count(*)                                                          AS customers,
    count(*) FILTER (WHERE frequency = 0)                             AS one_time_buyers,
    count(*) FILTER (WHERE frequency > 0)                             AS repeat_buyers,
    count(*) FILTER (WHERE frequency > 0 AND monetary_value <= 0)     AS nonpositive_spend,
    avg(monetary_value) FILTER (WHERE frequency > 0 AND monetary_value > 0)  AS mean_spend,
    corr(frequency, monetary_value) FILTER (WHERE frequency > 0 AND monetary_value > 0)
                                                                      AS frequency_spend_corr
FROM btyd

//! Word lists and sentence templates for the synthetic articles.
//!
//! Everything here is self-written filler: made-up companies built from syllables, made-up
//! media names and analysts, and numbers drawn from the generator. No third-party text.
//! Two constraints shape the lists:
//! - every Chinese string must be encodable in GBK (the `Gbk` mirror re-encodes articles), so
//!   only common simplified characters and the punctuation `，。、：“”` are used, with ASCII
//!   digits, parentheses and `%` (which the full-width mirror then converts);
//! - no paragraph may start like site boilerplate (`来源`, `返回`, `编辑`, `Source:`, `http`…),
//!   because the crawler's normaliser strips such lines; every template below starts with a
//!   name, a fixed phrase or a quote mark instead.

use chrono::{DateTime, Datelike, FixedOffset};

use super::article::Lang;
use super::rng::SplitMix64;

/// The text fields of one article, before it is given an id and a timestamp.
pub(crate) struct Composed {
    pub(crate) title: String,
    pub(crate) source: &'static str,
    pub(crate) category: &'static str,
    pub(crate) paragraphs: Vec<String>,
}

/// Category slugs; each has its own headline and lead-sentence template.
const CATEGORIES: [&str; 5] = ["companies", "markets", "macro", "tech", "energy"];

/// Writes the title, source, category and 3..=12 paragraphs of one article in `lang`,
/// dated around `published` (used for "on January 21"-style references in the text).
pub(crate) fn compose(
    rng: &mut SplitMix64,
    lang: &Lang,
    published: &DateTime<FixedOffset>,
) -> Composed {
    let category = *rng.pick(&CATEGORIES);
    let paragraph_count = rng.range(3, 12) as usize;
    match lang {
        Lang::Zh => zh::compose(rng, category, published, paragraph_count),
        Lang::En => en::compose(rng, category, published, paragraph_count),
    }
}

/// A percentage with two decimals, `0.01`..`49.99`, formatted without floats so that the
/// text is identical on every platform.
fn percent(rng: &mut SplitMix64) -> String {
    cents(rng.range(1, 4_999))
}

/// A daily index move with two decimals, `0.01`..`3.99`.
fn index_move(rng: &mut SplitMix64) -> String {
    cents(rng.range(1, 399))
}

/// An amount with two decimals, `1.00`..`999.99` (billions of yuan in the text).
fn amount(rng: &mut SplitMix64) -> String {
    cents(rng.range(100, 99_999))
}

/// An index level with two decimals, `2500.00`..`3799.99`.
fn index_level(rng: &mut SplitMix64) -> String {
    cents(rng.range(250_000, 379_999))
}

/// Formats hundredths as `units.hh`.
fn cents(hundredths: u64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// A six-digit mainland stock code with a plausible board prefix.
fn stock_code(rng: &mut SplitMix64) -> String {
    let prefix = rng.pick(&["600", "601", "603", "000", "002", "300", "688"]);
    format!("{prefix}{:03}", rng.below(1000))
}

/// Chinese text.
mod zh {
    use super::*;

    const SOURCES: [&str; 8] = [
        "演示日报",
        "样本财经",
        "模拟证券报",
        "虚构商业周刊",
        "测试经济观察",
        "示例金融时报",
        "假想财经网",
        "练习新闻社",
    ];
    const SYLLABLE_A: [&str; 30] = [
        "华", "中", "东", "南", "西", "北", "金", "银", "海", "天", "恒", "瑞", "泰", "宏", "远",
        "星", "通", "安", "新", "嘉", "鼎", "博", "汇", "兴", "盛", "德", "信", "和", "永", "光",
    ];
    const SYLLABLE_B: [&str; 20] = [
        "信", "达", "源", "润", "丰", "鑫", "创", "鸿", "川", "峰", "扬", "辰", "海", "科", "宇",
        "锐", "联", "华", "晟", "融",
    ];
    const COMPANY_SUFFIX: [&str; 16] = [
        "科技", "能源", "银行", "证券", "实业", "电子", "材料", "医药", "物流", "控股", "传媒",
        "汽车", "化工", "地产", "食品", "保险",
    ];
    const INSTITUTION_SUFFIX: [&str; 4] = ["证券研究所", "基金", "资本", "期货研究院"];
    const SURNAMES: [&str; 12] = [
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "孙", "林",
    ];
    const GIVEN: [&str; 12] = [
        "明", "华", "强", "伟", "芳", "军", "磊", "静", "涛", "敏", "晓东", "一鸣",
    ];
    const ROLES: [&str; 6] = [
        "首席经济学家",
        "首席策略分析师",
        "研究所所长",
        "高级研究员",
        "基金经理",
        "行业分析师",
    ];
    const QUOTES: [&str; 8] = [
        "从中长期看，行业基本面依然稳健",
        "短期波动不改变长期向好的趋势",
        "市场情绪有望逐步修复",
        "企业盈利改善仍需要时间验证",
        "政策效果将在下半年逐步显现",
        "投资者应关注估值与业绩的匹配程度",
        "龙头企业的竞争优势还在扩大",
        "需求端的变化值得持续跟踪",
    ];
    const SECTORS: [&str; 14] = [
        "半导体",
        "新能源汽车",
        "光伏",
        "白酒",
        "银行",
        "券商",
        "医药",
        "煤炭",
        "有色金属",
        "房地产",
        "消费电子",
        "软件服务",
        "军工",
        "储能",
    ];
    const INDICES: [&str; 6] = [
        "上证指数",
        "深证成指",
        "创业板指",
        "沪深300指数",
        "科创50指数",
        "恒生指数",
    ];
    const CITIES: [&str; 12] = [
        "北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "重庆", "天津", "苏州",
        "西安",
    ];
    const TOPICS: [&str; 10] = [
        "货币政策走向",
        "财政政策力度",
        "稳增长措施",
        "就业形势",
        "消费复苏进度",
        "出口增速",
        "通胀走势",
        "房地产调控",
        "人民币汇率",
        "专项债发行节奏",
    ];
    const TRENDS: [&str; 5] = [
        "维持震荡走势",
        "延续反弹",
        "承压运行",
        "逐步企稳",
        "在区间内波动",
    ];
    const RISKS: [&str; 5] = [
        "原材料价格波动",
        "海外需求放缓",
        "汇率波动",
        "行业竞争加剧",
        "产能释放不及预期",
    ];
    const PERIODS: [&str; 4] = [
        "2021年前三季度",
        "2021年度",
        "2021年第四季度",
        "2021年上半年",
    ];
    const PROJECTS: [&str; 6] = [
        "智能制造基地",
        "数据中心",
        "动力电池工厂",
        "研发总部",
        "芯片封装测试线",
        "储能电站",
    ];
    const THINGS: [&str; 5] = ["市场主体", "充电桩", "5G基站", "专利授权", "高新技术企业"];
    const RATINGS: [&str; 4] = ["买入", "增持", "推荐", "强烈推荐"];

    fn company(rng: &mut SplitMix64) -> String {
        let a = rng.pick(&SYLLABLE_A);
        let b = rng.pick(&SYLLABLE_B);
        let suffix = rng.pick(&COMPANY_SUFFIX);
        format!("{a}{b}{suffix}")
    }

    fn institution(rng: &mut SplitMix64) -> String {
        let a = rng.pick(&SYLLABLE_A);
        let b = rng.pick(&SYLLABLE_B);
        let suffix = rng.pick(&INSTITUTION_SUFFIX);
        format!("{a}{b}{suffix}")
    }

    fn person(rng: &mut SplitMix64) -> String {
        format!("{}{}", rng.pick(&SURNAMES), rng.pick(&GIVEN))
    }

    fn direction(rng: &mut SplitMix64) -> &'static str {
        if rng.chance(70) {
            "增长"
        } else {
            "下降"
        }
    }

    /// Facts shared by the headline, the lead and the rest of one article.
    struct Story {
        company: String,
        month: u32,
        day: u32,
    }

    pub(super) fn compose(
        rng: &mut SplitMix64,
        category: &'static str,
        published: &DateTime<FixedOffset>,
        paragraph_count: usize,
    ) -> Composed {
        let story = Story {
            company: company(rng),
            month: published.month(),
            day: published.day(),
        };
        let (title, lead) = headline(rng, category, &story);
        let mut paragraphs = Vec::with_capacity(paragraph_count);
        let mut first = lead;
        if rng.chance(50) {
            first.push_str(&sentence(rng, &story));
        }
        paragraphs.push(first);
        while paragraphs.len() < paragraph_count {
            let count = rng.range(1, 3);
            let paragraph: String = (0..count).map(|_| sentence(rng, &story)).collect();
            paragraphs.push(paragraph);
        }
        let source = *rng.pick(&SOURCES);
        Composed {
            title,
            source,
            category,
            paragraphs,
        }
    }

    /// The title and the lead sentence, which repeat the same figures.
    fn headline(rng: &mut SplitMix64, category: &str, story: &Story) -> (String, String) {
        let c = &story.company;
        let (m, d) = (story.month, story.day);
        let p = percent(rng);
        match category {
            "companies" => {
                let period = rng.pick(&PERIODS);
                let dir = direction(rng);
                let code = stock_code(rng);
                let revenue = amount(rng);
                (
                    format!("{c}{period}净利润同比{dir}{p}%"),
                    format!(
                        "{c}({code}){m}月{d}日晚间公告称，公司{period}归属于上市公司股东的净利润同比{dir}{p}%，实现营业收入{revenue}亿元。"
                    ),
                )
            }
            "markets" => {
                let p = index_move(rng);
                let index = rng.pick(&INDICES);
                let sector = rng.pick(&SECTORS);
                let (close, move_) = if rng.chance(55) {
                    ("收涨", "上涨")
                } else {
                    ("收跌", "下跌")
                };
                let level = index_level(rng);
                let turnover = amount(rng);
                (
                    format!("{index}{close}{p}%，{sector}板块成交活跃"),
                    format!(
                        "截至{m}月{d}日收盘，{index}报{level}点，{move_}{p}%，两市成交额合计{turnover}亿元，{sector}板块成交居前。"
                    ),
                )
            }
            "macro" => {
                let city = rng.pick(&CITIES);
                let month = rng.range(1, 12);
                let total = amount(rng);
                (
                    format!("{city}{month}月社会消费品零售总额同比增长{p}%"),
                    format!(
                        "据{city}市统计局{m}月{d}日发布的数据，2021年{month}月当地社会消费品零售总额为{total}亿元，同比增长{p}%。"
                    ),
                )
            }
            "tech" => {
                let city = rng.pick(&CITIES);
                let project = rng.pick(&PROJECTS);
                let total = amount(rng);
                let year = rng.range(2023, 2026);
                (
                    format!("{c}拟投资{total}亿元在{city}建设{project}"),
                    format!(
                        "{c}{m}月{d}日公告，公司计划投资{total}亿元在{city}建设{project}，预计{year}年投产，项目达产后年产值有望增长{p}%。"
                    ),
                )
            }
            _ => {
                let inst = institution(rng);
                let sector = rng.pick(&SECTORS);
                let rating = rng.pick(&RATINGS);
                (
                    format!("{inst}：{sector}行业需求有望增长{p}%"),
                    format!(
                        "{inst}{m}月{d}日发布研报指出，{sector}行业2022年需求有望增长{p}%，维持“{rating}”评级。"
                    ),
                )
            }
        }
    }

    /// One body sentence, ending in `。` (or `”` after a quote).
    fn sentence(rng: &mut SplitMix64, story: &Story) -> String {
        let c = &story.company;
        let (m, d) = (story.month, story.day);
        match rng.below(12) {
            0 => {
                let period = rng.pick(&PERIODS);
                let (a, dir, p, eps) =
                    (amount(rng), direction(rng), percent(rng), rng.range(1, 300));
                format!(
                    "{c}{period}归属于上市公司股东的净利润为{a}亿元，同比{dir}{p}%，基本每股收益为{}元。",
                    cents(eps)
                )
            }
            1 => {
                let index = rng.pick(&INDICES);
                let move_ = if rng.chance(50) { "上涨" } else { "下跌" };
                let (level, p, a) = (index_level(rng), index_move(rng), amount(rng));
                format!(
                    "截至{m}月{d}日收盘，{index}报{level}点，{move_}{p}%，两市成交额合计{a}亿元。"
                )
            }
            2 => {
                let sector = rng.pick(&SECTORS);
                let mood = rng.pick(&["活跃", "分化", "低迷"]);
                let (c2, code, c3, p) = (company(rng), stock_code(rng), company(rng), percent(rng));
                format!("{sector}板块午后表现{mood}，{c2}({code})涨幅居前，{c3}下跌{p}%。")
            }
            3 => {
                let (inst, role, who) = (institution(rng), rng.pick(&ROLES), person(rng));
                let quote = rng.pick(&QUOTES);
                format!("{inst}{role}{who}表示：“{quote}。”")
            }
            4 => {
                let (topic, index, trend) =
                    (rng.pick(&TOPICS), rng.pick(&INDICES), rng.pick(&TRENDS));
                format!("分析人士认为，{topic}仍是当前市场关注的焦点，{index}短期内或将{trend}。")
            }
            5 => {
                let (city, month, a, p) = (
                    rng.pick(&CITIES),
                    rng.range(1, 12),
                    amount(rng),
                    percent(rng),
                );
                format!("另据{city}市统计局数据，2021年{month}月当地规模以上工业增加值为{a}亿元，同比增长{p}%。")
            }
            6 => {
                let (a, city, project) = (amount(rng), rng.pick(&CITIES), rng.pick(&PROJECTS));
                let year = rng.range(2023, 2026);
                format!(
                    "{c}方面透露，公司还计划投资{a}亿元在{city}建设{project}，预计{year}年投产。"
                )
            }
            7 => {
                let side = if rng.chance(50) { "买入" } else { "卖出" };
                let (a, sector, b) = (amount(rng), rng.pick(&SECTORS), amount(rng));
                format!(
                    "从资金面看，北向资金当日净{side}{a}亿元，主力资金净流入{sector}板块{b}亿元。"
                )
            }
            8 => {
                let (inst, sector, p, rating) = (
                    institution(rng),
                    rng.pick(&SECTORS),
                    percent(rng),
                    rng.pick(&RATINGS),
                );
                format!(
                    "{inst}在研报中指出，{sector}行业2022年需求有望增长{p}%，维持“{rating}”评级。"
                )
            }
            9 => {
                let (city, thing, count) =
                    (rng.pick(&CITIES), rng.pick(&THINGS), rng.range(120, 98_000));
                let (dir, p) = (direction(rng), percent(rng));
                format!("数据显示，{city}{m}月新增{thing}{count}个，环比{dir}{p}%。")
            }
            10 => {
                let (period, a, p) = (rng.pick(&PERIODS), amount(rng), percent(rng));
                format!("此外，{c}{period}研发投入为{a}亿元，占营业收入的比例为{p}%。")
            }
            _ => {
                let (topic, risk) = (rng.pick(&TOPICS), rng.pick(&RISKS));
                let (sector, city, city2) =
                    (rng.pick(&SECTORS), rng.pick(&CITIES), rng.pick(&CITIES));
                format!("也有观点提醒，{topic}存在不确定性，{sector}相关企业需关注{risk}带来的影响，{city}、{city2}等地的项目进度值得跟踪。")
            }
        }
    }
}

/// English text.
mod en {
    use super::*;

    const SOURCES: [&str; 5] = [
        "Demo Wire",
        "Sample Street Journal",
        "Mock Markets Daily",
        "Fictional Finance Review",
        "Placeholder Press",
    ];
    const SYLLABLE_A: [&str; 20] = [
        "Tor", "Vel", "Kar", "Min", "Sar", "Lor", "Bren", "Quin", "Dal", "Fen", "Hal", "Mer",
        "Nor", "Pel", "Ros", "Tal", "Ver", "Zan", "Cor", "Jun",
    ];
    const SYLLABLE_B: [&str; 10] = ["ex", "ia", "on", "ar", "ine", "ora", "um", "is", "ent", "o"];
    const COMPANY_SUFFIX: [&str; 10] = [
        "Holdings",
        "Energy",
        "Bank",
        "Systems",
        "Logistics",
        "Materials",
        "Motors",
        "Pharma",
        "Capital",
        "Networks",
    ];
    const INSTITUTION_SUFFIX: [&str; 4] =
        ["Securities", "Research", "Asset Management", "Advisory"];
    const FIRST_NAMES: [&str; 10] = [
        "Li", "Wei", "Chen", "Anna", "David", "Mei", "Grace", "Tom", "Lin", "Sarah",
    ];
    const SURNAMES: [&str; 10] = [
        "Zhang", "Wang", "Liu", "Harper", "Chow", "Lee", "Morgan", "Tan", "Ng", "Walsh",
    ];
    const ROLES: [&str; 5] = [
        "chief economist",
        "head of strategy",
        "senior analyst",
        "portfolio manager",
        "research director",
    ];
    const QUOTES: [&str; 6] = [
        "The long-term fundamentals remain solid",
        "Short-term swings do not change the trend",
        "Sentiment should recover gradually",
        "Earnings still need time to improve",
        "Policy support will show up in the second half",
        "Valuations have to be matched by results",
    ];
    const SECTORS: [&str; 12] = [
        "semiconductor",
        "electric vehicle",
        "solar",
        "liquor",
        "banking",
        "brokerage",
        "pharmaceutical",
        "coal",
        "property",
        "consumer electronics",
        "software",
        "energy storage",
    ];
    const INDICES: [&str; 5] = [
        "Shanghai Composite Index",
        "Shenzhen Component Index",
        "ChiNext Index",
        "CSI 300 Index",
        "Hang Seng Index",
    ];
    const CITIES: [&str; 10] = [
        "Beijing",
        "Shanghai",
        "Shenzhen",
        "Guangzhou",
        "Hangzhou",
        "Chengdu",
        "Wuhan",
        "Nanjing",
        "Chongqing",
        "Suzhou",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const TOPICS: [&str; 6] = [
        "monetary policy",
        "the property market",
        "export growth",
        "the consumer recovery",
        "the yuan exchange rate",
        "local government bond issuance",
    ];
    const TRENDS: [&str; 4] = [
        "trade in a range",
        "extend its rebound",
        "remain under pressure",
        "stabilise",
    ];
    const RISKS: [&str; 4] = [
        "volatile raw material prices",
        "slowing overseas demand",
        "currency swings",
        "fiercer competition",
    ];
    /// (long form for body text, short form for headlines)
    const PERIODS: [(&str, &str); 4] = [
        ("the first three quarters of 2021", "nine-month"),
        ("2021", "full-year"),
        ("the fourth quarter of 2021", "fourth-quarter"),
        ("the first half of 2021", "first-half"),
    ];
    const PROJECTS: [&str; 5] = [
        "battery plant",
        "data centre",
        "research campus",
        "chip packaging line",
        "energy storage station",
    ];
    const RATINGS: [&str; 3] = ["buy", "overweight", "outperform"];
    const WEEKDAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];

    fn company(rng: &mut SplitMix64) -> String {
        let a = rng.pick(&SYLLABLE_A);
        let b = rng.pick(&SYLLABLE_B);
        let suffix = rng.pick(&COMPANY_SUFFIX);
        format!("{a}{b} {suffix}")
    }

    fn institution(rng: &mut SplitMix64) -> String {
        let a = rng.pick(&SYLLABLE_A);
        let b = rng.pick(&SYLLABLE_B);
        let suffix = rng.pick(&INSTITUTION_SUFFIX);
        format!("{a}{b} {suffix}")
    }

    fn person(rng: &mut SplitMix64) -> String {
        format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&SURNAMES))
    }

    /// Facts shared by the headline, the lead and the rest of one article.
    struct Story {
        company: String,
        weekday: &'static str,
        month: &'static str,
        day: u32,
    }

    pub(super) fn compose(
        rng: &mut SplitMix64,
        category: &'static str,
        published: &DateTime<FixedOffset>,
        paragraph_count: usize,
    ) -> Composed {
        let weekday = published.weekday().num_days_from_monday() as usize;
        let month = published.month0() as usize;
        let story = Story {
            company: company(rng),
            weekday: WEEKDAYS[weekday % WEEKDAYS.len()],
            month: MONTHS[month % MONTHS.len()],
            day: published.day(),
        };
        let (title, lead) = headline(rng, category, &story);
        let mut paragraphs = Vec::with_capacity(paragraph_count);
        let mut first = lead;
        if rng.chance(50) {
            first.push(' ');
            first.push_str(&sentence(rng, &story));
        }
        paragraphs.push(first);
        while paragraphs.len() < paragraph_count {
            let count = rng.range(1, 3);
            let sentences: Vec<String> = (0..count).map(|_| sentence(rng, &story)).collect();
            paragraphs.push(sentences.join(" "));
        }
        let source = *rng.pick(&SOURCES);
        Composed {
            title,
            source,
            category,
            paragraphs,
        }
    }

    /// The title and the lead sentence, which repeat the same figures.
    fn headline(rng: &mut SplitMix64, category: &str, story: &Story) -> (String, String) {
        let c = &story.company;
        let (weekday, month, day) = (story.weekday, story.month, story.day);
        let p = percent(rng);
        match category {
            "companies" => {
                let (period, short) = *rng.pick(&PERIODS);
                let (verb, past) = if rng.chance(70) {
                    ("rises", "rose")
                } else {
                    ("falls", "fell")
                };
                let revenue = amount(rng);
                (
                    format!("{c} {short} profit {verb} {p}%"),
                    format!(
                        "{c} said on {weekday} that net profit for {period} {past} {p}% from a year earlier, on revenue of {revenue} billion yuan."
                    ),
                )
            }
            "markets" => {
                let p = index_move(rng);
                let index = rng.pick(&INDICES);
                let sector = rng.pick(&SECTORS);
                let (verb, past) = if rng.chance(55) {
                    ("gains", "rising")
                } else {
                    ("slips", "falling")
                };
                let (level, turnover) = (index_level(rng), amount(rng));
                (
                    format!("{index} {verb} {p}% in busy {sector} trading"),
                    format!(
                        "The {index} closed at {level} points on {month} {day}, {past} {p}%, with combined turnover of {turnover} billion yuan led by {sector} shares."
                    ),
                )
            }
            "macro" => {
                let city = rng.pick(&CITIES);
                let data_month = rng.pick(&MONTHS);
                let total = amount(rng);
                (
                    format!("{city} retail sales up {p}% in {data_month}"),
                    format!(
                        "Official data released on {month} {day} showed retail sales in {city} reached {total} billion yuan in {data_month} 2021, up {p}% year on year."
                    ),
                )
            }
            "tech" => {
                let (city, project) = (rng.pick(&CITIES), rng.pick(&PROJECTS));
                let total = amount(rng);
                let year = rng.range(2023, 2026);
                (
                    format!("{c} to invest {total} billion yuan in {city} {project}"),
                    format!(
                        "{c} said on {weekday} it plans to invest {total} billion yuan in a new {project} in {city}, with production expected to start in {year} and output to grow {p}% once it runs at capacity."
                    ),
                )
            }
            _ => {
                let inst = institution(rng);
                let sector = rng.pick(&SECTORS);
                let rating = rng.pick(&RATINGS);
                (
                    format!("{inst} sees {sector} demand growing {p}%"),
                    format!(
                        "Analysts at {inst} said on {weekday} that demand in the {sector} sector could grow {p}% in 2022, and kept its \"{rating}\" rating on the group."
                    ),
                )
            }
        }
    }

    /// One body sentence, ending in a full stop.
    fn sentence(rng: &mut SplitMix64, story: &Story) -> String {
        let c = &story.company;
        let (month, day) = (story.month, story.day);
        match rng.below(11) {
            0 => {
                let (period, _) = *rng.pick(&PERIODS);
                let direction = if rng.chance(70) { "up" } else { "down" };
                let (a, p) = (amount(rng), percent(rng));
                format!("Net profit attributable to shareholders of {c} for {period} came in at {a} billion yuan, {direction} {p}% from a year earlier.")
            }
            1 => {
                let index = rng.pick(&INDICES);
                let direction = if rng.chance(50) { "up" } else { "down" };
                let (level, p, a) = (index_level(rng), index_move(rng), amount(rng));
                format!("The {index} ended at {level} points on {month} {day}, {direction} {p}%, as turnover reached {a} billion yuan.")
            }
            2 => {
                let (c2, c3, p, p2) = (company(rng), company(rng), percent(rng), percent(rng));
                format!("Shares of {c2} gained {p}% in afternoon trading, while {c3} fell {p2}%.")
            }
            3 => {
                let (quote, who, role, inst) = (
                    rng.pick(&QUOTES),
                    person(rng),
                    rng.pick(&ROLES),
                    institution(rng),
                );
                format!("\"{quote},\" said {who}, {role} at {inst}.")
            }
            4 => {
                let (topic, index, trend) =
                    (rng.pick(&TOPICS), rng.pick(&INDICES), rng.pick(&TRENDS));
                format!("Analysts said {topic} remained the main focus for investors and that the {index} was likely to {trend} in the near term.")
            }
            5 => {
                let side = if rng.chance(50) { "buyers" } else { "sellers" };
                let (a, sector, b) = (amount(rng), rng.pick(&SECTORS), amount(rng));
                format!("Northbound investors were net {side} of {a} billion yuan of mainland stocks on the day, while {b} billion yuan flowed into {sector} shares.")
            }
            6 => {
                let (a, project, city) = (amount(rng), rng.pick(&PROJECTS), rng.pick(&CITIES));
                let year = rng.range(2023, 2026);
                format!("{c} also plans to spend {a} billion yuan on a {project} in {city}, due to open in {year}.")
            }
            7 => {
                let (inst, sector, p, rating) = (
                    institution(rng),
                    rng.pick(&SECTORS),
                    percent(rng),
                    rng.pick(&RATINGS),
                );
                format!("Analysts at {inst} expect demand in the {sector} sector to grow {p}% in 2022 and rate the group \"{rating}\".")
            }
            8 => {
                let (city, data_month, a, p) = (
                    rng.pick(&CITIES),
                    rng.pick(&MONTHS),
                    amount(rng),
                    percent(rng),
                );
                format!("Industrial output in {city} reached {a} billion yuan in {data_month} 2021, up {p}% year on year, according to the local statistics bureau.")
            }
            9 => {
                let (period, _) = *rng.pick(&PERIODS);
                let p = percent(rng);
                format!("{c} said research spending accounted for {p}% of revenue in {period}.")
            }
            _ => {
                let (risk, count) = (rng.pick(&RISKS), rng.range(120, 98_000));
                format!("Some analysts cautioned that {risk} could weigh on earnings, although {count} new companies registered in the region last month.")
            }
        }
    }
}
